// Command matbench is a small, real benchmark command for trying
// `perfpilot run` on this machine: it times dense matrix products on the CPU
// shaped like one projection of a transformer layer (batch × sequence rows
// of the model's hidden size, times a hidden × hidden weight matrix) and
// prints perfpilot's JSON result line.
//
// It measures matrix products on this CPU, not the named model.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

const usageText = `matbench times dense matrix products on this machine's CPU and prints
  {"throughput": <items/s>, "latency_ms": <ms per batch>, "memory_mb": <MB>}

It measures matrix products on this CPU, NOT the named model: the model only picks
the matrix sizes. One item is one sequence of --sequence-length rows of the model's
hidden size; the workload of a batch is (batch × sequence) × hidden times
hidden × hidden. fp32, fp16 and bf16 compute in float32 (Go has no half-precision
arithmetic); int8 and int4 compute in int8 with int32 sums. Large problems are timed
on a capped number of rows and the rate is scaled to the full batch. It refuses
hardware other than "cpu", so it never records CPU numbers under another device.

Usage:
  matbench --model bert-base-uncased --hardware cpu --batch-size 8 --precision fp32 --output-dir out

Flags:
`

// models maps the built-in catalog models to their hidden size and default
// sequence length (tokens, patches, frames or positions).
var models = map[string]struct{ hidden, seq int }{
	"bert-base-uncased":            {768, 128},
	"bert-large-uncased":           {1024, 128},
	"t5-small":                     {512, 128},
	"facebook/opt-125m":            {768, 128},
	"gpt2":                         {768, 128},
	"google/vit-base-patch16-224":  {768, 197},
	"openai/whisper-tiny":          {384, 1500},
	"openai/clip-vit-base-patch32": {768, 50},
	"microsoft/resnet-50":          {2048, 49},
	"meta-llama/Llama-2-7b-hf":     {4096, 512},
}

// Limits keep one run well under a few seconds and a few hundred MB.
const (
	maxTimedFLOPs = 300e6 // per timed product
	maxHidden     = 1024  // timed hidden size; larger ones are scaled
	maxAllocBytes = 1 << 30
	timeBudget    = 600 * time.Millisecond
)

type options struct {
	model, hardware, precision, outputDir string
	batch, seq, hidden                    int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("matbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.model, "model", "", "model id: picks the hidden size and default sequence length")
	fs.StringVar(&o.hardware, "hardware", "cpu", `hardware id; only "cpu" (this machine) is measured`)
	fs.IntVar(&o.batch, "batch-size", 1, "items per batch")
	fs.StringVar(&o.precision, "precision", "fp32", "fp32, fp16, bf16, int8 or int4")
	fs.StringVar(&o.outputDir, "output-dir", "", "directory for a JSON copy of the result (optional)")
	fs.IntVar(&o.seq, "sequence-length", 0, "rows per item (default: the model's)")
	fs.IntVar(&o.hidden, "hidden", 0, "hidden size (default: the model's; required for unknown models)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "matbench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	res, err := measure(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "matbench:", err)
		return 2
	}
	line, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", line)
	if o.outputDir != "" {
		if err := save(o, line); err != nil {
			fmt.Fprintln(stderr, "matbench:", err)
			return 1
		}
	}
	return 0
}

type result struct {
	Throughput float64 `json:"throughput"`
	LatencyMS  float64 `json:"latency_ms"`
	MemoryMB   float64 `json:"memory_mb"`
	Benchmark  string  `json:"benchmark"`
	Model      string  `json:"model"`
	Hardware   string  `json:"hardware"`
	BatchSize  int     `json:"batch_size"`
	Precision  string  `json:"precision"`
	Sequence   int     `json:"sequence_length"`
	Hidden     int     `json:"hidden"`
	GFLOPS     float64 `json:"gflops"`
	Scaled     bool    `json:"scaled"`
}

func measure(o options, log io.Writer) (*result, error) {
	if o.hardware != "cpu" {
		return nil, fmt.Errorf("hardware %q: matbench only measures this machine's CPU (use --hardware cpu)", o.hardware)
	}
	if o.batch <= 0 {
		return nil, fmt.Errorf("--batch-size %d is not positive", o.batch)
	}
	def, known := models[o.model]
	hidden, seq := o.hidden, o.seq
	if hidden == 0 {
		if !known {
			names := make([]string, 0, len(models))
			for m := range models {
				names = append(names, m)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("unknown model %q: give --hidden (known: %s)", o.model, strings.Join(names, ", "))
		}
		hidden = def.hidden
	}
	if seq == 0 {
		seq = 128
		if known {
			seq = def.seq
		}
	}
	if hidden <= 0 || seq <= 0 {
		return nil, errors.New("--hidden and --sequence-length must be positive")
	}
	var elem int
	switch o.precision {
	case "fp32", "fp16", "bf16":
		elem = 4
	case "int8", "int4":
		elem = 1
	default:
		return nil, fmt.Errorf("--precision %q: want fp32, fp16, bf16, int8 or int4", o.precision)
	}

	rows := o.batch * seq
	// The timed problem: hidden capped, rows capped by a FLOP budget.
	h := min(hidden, maxHidden)
	tr := max(1, min(rows, int(maxTimedFLOPs/(2*float64(h)*float64(h)))))
	// The full batch's input and output live in memory, so memory grows
	// with the batch as it would for a real forward pass.
	need := int64(rows)*int64(hidden)*int64(elem)*2 + int64(hidden)*int64(hidden)*int64(elem)
	if need > maxAllocBytes {
		return nil, fmt.Errorf("batch %d × sequence %d × hidden %d needs %d MB, over matbench's %d MB limit", o.batch, seq, hidden, need>>20, maxAllocBytes>>20)
	}

	var perRep time.Duration
	if elem == 4 {
		perRep = timeFloat32(rows, hidden, tr, h)
	} else {
		perRep = timeInt8(rows, hidden, tr, h)
	}
	timedFLOPs := 2 * float64(tr) * float64(h) * float64(h)
	rate := timedFLOPs / perRep.Seconds() // FLOP/s
	fullFLOPs := 2 * float64(rows) * float64(hidden) * float64(hidden)
	latency := fullFLOPs / rate // s

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res := &result{
		Throughput: float64(o.batch) / latency, LatencyMS: latency * 1000, MemoryMB: float64(ms.Sys) / (1 << 20),
		Benchmark: "matbench: CPU matrix products, not the real model", Model: o.model, Hardware: o.hardware,
		BatchSize: o.batch, Precision: o.precision, Sequence: seq, Hidden: hidden, GFLOPS: rate / 1e9,
		Scaled: tr < rows || h < hidden,
	}
	fmt.Fprintf(log, "matbench: %d×%d · %d×%d %s on %d CPU threads: %.2f GFLOP/s", rows, hidden, hidden, hidden, o.precision, runtime.GOMAXPROCS(0), rate/1e9)
	if res.Scaled {
		fmt.Fprintf(log, " (timed %d×%d · %d×%d, scaled)", tr, h, h, h)
	}
	fmt.Fprintln(log)
	return res, nil
}

// timeFloat32 allocates the full problem, then times products of the first
// tr rows and h columns, returning the median time of one product.
func timeFloat32(rows, hidden, tr, h int) time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, rows*hidden)
	y := make([]float32, rows*hidden)
	w := make([]float32, hidden*hidden)
	for i := range x {
		x[i] = rng.Float32() - 0.5
	}
	for i := range w {
		w[i] = rng.Float32() - 0.5
	}
	return timeIt(func() {
		parallelRows(tr, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out := y[i*hidden : i*hidden+h]
				clear(out)
				in := x[i*hidden : i*hidden+h]
				for k, a := range in {
					row := w[k*hidden : k*hidden+h]
					for j, b := range row {
						out[j] += a * b
					}
				}
			}
		})
	})
}

// timeInt8 is timeFloat32 in int8 with int32 sums.
func timeInt8(rows, hidden, tr, h int) time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]int8, rows*hidden)
	y := make([]int8, rows*hidden)
	w := make([]int8, hidden*hidden)
	for i := range x {
		x[i] = int8(rng.IntN(255) - 127)
	}
	for i := range w {
		w[i] = int8(rng.IntN(255) - 127)
	}
	return timeIt(func() {
		parallelRows(tr, func(lo, hi int) {
			acc := make([]int32, h)
			for i := lo; i < hi; i++ {
				clear(acc)
				in := x[i*hidden : i*hidden+h]
				for k, a := range in {
					row := w[k*hidden : k*hidden+h]
					a32 := int32(a)
					for j, b := range row {
						acc[j] += a32 * int32(b)
					}
				}
				out := y[i*hidden : i*hidden+h]
				for j, v := range acc {
					out[j] = int8(v >> 16)
				}
			}
		})
	})
}

// timeIt runs f once to warm up, then until the time budget is spent (at
// least three times unless the machine is so busy that takes seconds), and
// returns the median duration.
func timeIt(f func()) time.Duration {
	f()
	var ds []time.Duration
	start := time.Now()
	for len(ds) == 0 || len(ds) < 3 && time.Since(start) < 3*timeBudget || time.Since(start) < timeBudget && len(ds) < 50 {
		t := time.Now()
		f()
		ds = append(ds, time.Since(t))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return max(ds[len(ds)/2], time.Nanosecond)
}

// parallelRows splits [0,n) over the CPUs.
func parallelRows(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// save writes the result line to the output directory, like the seed's
// run_benchmark.py kept its results.
func save(o options, line []byte) error {
	if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("matbench-%s-%s-b%d-%s.json", safe(o.model), safe(o.hardware), o.batch, safe(o.precision))
	path := filepath.Join(o.outputDir, name)
	tmp, err := os.CreateTemp(o.outputDir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(line, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
