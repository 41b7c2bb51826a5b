package formats

import (
	"fmt"
	"strings"
)

// genCSV builds an import file of n distinct valid rows over built-in
// models and hardware.
func genCSV(n int, source string) string {
	models := []string{"bert-base-uncased", "gpt2", "t5-small", "facebook/opt-125m"}
	hws := []string{"cpu", "cuda", "rocm", "mps", "openvino", "qnn"}
	precs := []string{"fp32", "fp16", "int8"}
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("model_name,hardware,batch_size,precision,sequence_length,throughput,latency_ms,memory_mb,source\n")
	for i := 0; i < n; i++ {
		batch := 1 << (i % 7)
		thr := 10 + float64(i)*0.25
		hw, prec := hws[(i/4)%len(hws)], precs[(i/24)%len(precs)]
		if (hw == "mps" && prec == "int8") || (hw == "cpu" && prec == "fp16") {
			prec = "fp32" // the catalog says the hardware lacks it: the row would be implausible
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s,128,%g,%g,%g,%s\n", models[i%len(models)], hw, batch,
			prec, thr, float64(batch)*1000/thr, 500+float64(i%1000), source)
	}
	return b.String()
}
