package formats

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"perfpilot/engine"
)

// TestImportLlamaCppData imports the public llama.cpp campaign as it is:
// every row, each keeping its phase, GPU split and token counts.
func TestImportLlamaCppData(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data")
	f, err := os.Open(filepath.Join(dir, "llm-llamacpp.csv"))
	if err != nil {
		t.Skipf("shared data absent (%v)", err)
	}
	defer f.Close()
	cat := engine.MustBuiltinCatalog()
	if err := cat.AddFile(filepath.Join(dir, "llm-llamacpp-catalog.json")); err != nil {
		t.Fatal(err)
	}
	pf, err := ParseResults("llm-llamacpp.csv", f, cat, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	keys := map[string]bool{}
	for _, r := range pf.Results {
		count[r.Phase.String()]++
		if r.GPUs() > 1 {
			count["multi"]++
			if r.Parallelism != engine.Row {
				t.Errorf("%s: a December 2023 llama.cpp build split by %q, not rows", r.Config, r.Parallelism)
			}
		}
		keys[r.Config.Key()] = true
		switch r.Phase {
		case engine.Prefill:
			if r.PromptTokens != 494 || r.SequenceLength != 494 || r.OutputTokens != 1024 || r.ContextSize != 512 {
				t.Errorf("prefill shape: %+v", r.Config)
			}
		case engine.Decode:
			if r.ContextTokens != 385 && r.ContextTokens != 260 || r.SequenceLength != 1 {
				t.Errorf("decode shape: %+v", r.Config)
			}
		}
		if r.PrecisionLabel != "q4_0" && r.PrecisionLabel != "f16" || r.Precision == engine.INT4 && (r.WeightBits < 4.5 || r.WeightBits > 4.55) {
			t.Errorf("weight format: %+v", r.Config)
		}
		if !strings.HasPrefix(r.Stack, "llama.cpp build") {
			t.Errorf("stack %q", r.Stack)
		}
	}
	if len(pf.Results) != 439 || count["prefill"] != 216 || count["decode"] != 223 || count["multi"] != 214 {
		t.Errorf("imported %d rows, %v; want 439 (216 prefill, 223 decode, 214 on several GPUs)", len(pf.Results), count)
	}
	if len(keys) != 439 {
		t.Errorf("%d distinct configurations of 439 rows: phases or GPU counts merged", len(keys))
	}
	for _, c := range pf.UnknownColumns {
		switch c {
		case "weights_mb", "kv_cache_mb", "n_runs", "tokens_per_s_min", "tokens_per_s_max", "notebook":
		default:
			t.Errorf("column %q ignored", c)
		}
	}
}

func TestImportGenerationColumns(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	const head = "model_name,hardware,batch_size,precision,phase,gpu_count,parallelism,prompt_tokens,output_tokens,context_tokens,tokens_per_s,latency_ms,precision_label,weight_bits,engine\n"
	const llama = "meta-llama/Llama-2-7b-hf"
	good := head +
		llama + ",cuda,1,int4,prefill,,,1024,,,4096,,awq,,vllm 0.6\n" +
		llama + ",cuda,8,fp16,decode,2,,512,128,,800,,,,vllm 0.6\n" +
		llama + ",cuda,8,fp16,decode,2,layer,512,128,600,,10,,,\n" +
		llama + ",rtx4090,1,int4,decode,,,,,,120,,Q4_K_M,4.91,llama.cpp build 4500 (8e672efe)\n"
	pf, err := ParseResults("g.csv", strings.NewReader(good), cat, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := pf.Results
	tests := []struct {
		name string
		ok   bool
	}{
		{"prefill latency from tokens/s: 1024 tokens at 4096/s", rs[0].LatencyMS == 250 && rs[0].PromptTokens == 1024 && rs[0].PrecisionLabel == "awq"},
		{"decode latency from tokens/s: 8 tokens per step at 800/s", rs[1].LatencyMS == 10 && rs[1].ContextTokens == 512+64},
		{"vLLM splits by tensor", rs[1].Parallelism == engine.Tensor && rs[1].GPUCount == 2},
		{"parallelism column wins", rs[2].Parallelism == engine.Layer && rs[2].ContextTokens == 600},
		{"label lower-cased, bits kept", rs[3].PrecisionLabel == "q4_k_m" && rs[3].WeightBits == 4.91},
		{"decode and prefill of one setup are different configurations", rs[1].Config.Key() != rs[2].Config.Key()},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: %+v", tc.name, rs)
		}
	}

	bad := []struct {
		name, row, want string
	}{
		{"unknown phase", llama + ",cuda,1,fp16,train,,,,,,,5,,,", `phase: unknown phase "train"`},
		{"negative GPUs", llama + ",cuda,1,fp16,decode,-2,,,,,,5,,,", "gpu_count: -2 is negative"},
		{"more GPUs than a machine holds", llama + ",mps,1,fp16,decode,2,,,,,,5,,,", "a machine holds at most 1 of mps"},
		{"unknown split", llama + ",cuda,1,fp16,decode,2,expert,,,,,5,,,", `parallelism: unknown parallelism "expert"`},
		{"tokens/s disagrees with latency", llama + ",cuda,1,fp16,decode,,,,,,100,50,,,", "tokens_per_s: 100 tokens/s disagrees with latency_ms 50"},
		{"tokens/s on a forward pass", llama + ",cuda,1,fp16,,,,,,,100,,,,", "tokens_per_s: needs a phase"},
		{"tokens/s zero", llama + ",cuda,1,fp16,decode,,,,,,0,,,,", "tokens_per_s: 0 is not positive"},
		{"bits above 32", llama + ",cuda,1,fp16,decode,,,,,,,5,,64,", "weight_bits: 64 is above 32"},
		{"decode of an encoder", "bert-base-uncased,cuda,1,fp16,decode,,,,,,,5,,,", "needs a text-generation model"},
		{"fractional tokens", llama + ",cuda,1,fp16,prefill,,,51.5,,,,5,,,", "prompt_tokens: \"51.5\" is not a whole number"},
	}
	for _, tc := range bad {
		_, err := ParseResults("b.csv", strings.NewReader(head+tc.row+"\n"), cat, ParseOptions{})
		var ie *ImportError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "b.csv:2: ") {
			t.Errorf("%s: %v, want b.csv:2: …%s", tc.name, err, tc.want)
		}
	}
}

// TestExportCSVGenerationColumns: text-generation rows export their shape
// and TTFT/TPOT/tokens/s/concurrency/KV intervals; other rows leave those
// cells empty.
func TestExportCSVGenerationColumns(t *testing.T) {
	gen := engine.NewRecommendation(engine.Config{Model: "meta-llama/Llama-2-7b-hf", Hardware: "cuda", BatchSize: 16, Precision: engine.INT4,
		SequenceLength: 1024, Phase: engine.Generate, PromptTokens: 1024, OutputTokens: 256, GPUCount: 2, Parallelism: engine.Tensor}, "text_generation")
	ttft, tpot := engine.Interval{Value: 2700, Low: 2300, High: 3100}, engine.Interval{Value: 15, Low: 13, High: 17}
	gen.Predicted.TTFTMS, gen.Predicted.TPOTMS = &ttft, &tpot
	fwd := engine.NewRecommendation(engine.Config{Model: "bert-base-uncased", Hardware: "cuda", BatchSize: 8, Precision: engine.FP16, SequenceLength: 128}, "text_embedding")
	data, err := ExportCSV([]engine.Recommendation{gen, fwd}, engine.Throughput)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	want := map[string][2]string{"phase": {"generate", ""}, "gpu_count": {"2", ""}, "parallelism": {"tensor", ""}, "prompt_tokens": {"1024", ""},
		"predicted_ttft_ms": {"2700", ""}, "predicted_tpot_ms_high": {"17", ""}, "predicted_max_concurrency": {"", ""}}
	for name, w := range want {
		i, ok := col[name]
		if !ok {
			t.Errorf("no column %q", name)
			continue
		}
		if recs[1][i] != w[0] || recs[2][i] != w[1] {
			t.Errorf("%s: %q / %q, want %q / %q", name, recs[1][i], recs[2][i], w[0], w[1])
		}
	}
}
