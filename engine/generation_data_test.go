package engine

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"
)

const llamacppCSV, llamacppCatalog = "../../shared/data/llm-llamacpp.csv", "../../shared/data/llm-llamacpp-catalog.json"

// llamacppRows reads the public llama.cpp measurements (skipping the test
// when ../shared is absent) as configurations with their measured latency.
// The campaign split matrices by rows over several GPUs (the data's README).
func llamacppRows(t *testing.T) (*Catalog, []Config, []float64) {
	t.Helper()
	f, err := os.Open(llamacppCSV)
	if os.IsNotExist(err) {
		t.Skip("../shared/data absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cat := MustBuiltinCatalog()
	if err := cat.AddFile(llamacppCatalog); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	atoi := func(r []string, name string) int { v, _ := strconv.Atoi(r[col[name]]); return v }
	atof := func(r []string, name string) float64 { v, _ := strconv.ParseFloat(r[col[name]], 64); return v }
	var cfgs []Config
	var lat []float64
	for _, r := range recs[1:] {
		cfg := Config{Model: r[col["model_name"]], Hardware: r[col["hardware"]], BatchSize: atoi(r, "batch_size"),
			Precision: Precision(r[col["precision"]]), SequenceLength: atoi(r, "sequence_length"), Phase: Phase(r[col["phase"]]),
			GPUCount: atoi(r, "gpu_count"), PromptTokens: atoi(r, "prompt_tokens"), OutputTokens: atoi(r, "generated_tokens"),
			ContextTokens: atoi(r, "decode_context_mean"), ContextSize: atoi(r, "n_ctx"),
			PrecisionLabel: r[col["precision_label"]], WeightBits: atof(r, "weight_bits")}
		if cfg.GPUCount > 1 {
			cfg.Parallelism = Row
		}
		n, err := cat.Normalize(cfg)
		if err != nil {
			t.Fatalf("%v: %v", cfg, err)
		}
		cfgs, lat = append(cfgs, n), append(lat, atof(r, "latency_ms"))
	}
	return cat, cfgs, lat
}

// TestGenerationPriorOnLlamaCpp holds the plain physics (no learning) to
// 30% mean error per phase on every row, one GPU and several.
func TestGenerationPriorOnLlamaCpp(t *testing.T) {
	cat, cfgs, lat := llamacppRows(t)
	type agg struct{ apes, logs []float64 }
	groups := map[string]*agg{}
	add := func(k string, ratio float64) {
		if groups[k] == nil {
			groups[k] = &agg{}
		}
		groups[k].apes = append(groups[k].apes, math.Abs(ratio-1))
		groups[k].logs = append(groups[k].logs, math.Log(ratio))
	}
	for i, cfg := range cfgs {
		r := RooflineFor(cat.Model(cfg.Model), cat.Hardware(cfg.Hardware), cfg)
		ape := r.LatencyMS / lat[i]
		gpus := "1 GPU"
		if cfg.GPUs() > 1 {
			gpus = "n GPUs"
		}
		add(cfg.Phase.String(), ape)
		add(cfg.Phase.String()+" "+gpus, ape)
		add(fmt.Sprintf("%s %s %s", cfg.Phase, cfg.Hardware, gpus), ape)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := groups[k].apes
		s := 0.0
		for _, v := range a {
			s += v
		}
		sort.Float64s(a)
		g := 0.0
		for _, v := range groups[k].logs {
			g += v
		}
		t.Logf("%-36s n=%3d MAPE %5.1f%% median %5.1f%% predicted/measured %.2f", k, len(a), 100*s/float64(len(a)), 100*a[len(a)/2], math.Exp(g/float64(len(a))))
	}
	for _, ph := range []Phase{Prefill, Decode} {
		a := groups[ph.String()].apes
		s := 0.0
		for _, v := range a {
			s += v
		}
		if mape := 100 * s / float64(len(a)); mape > 30 {
			t.Errorf("%s: plain prior MAPE %.1f%% > 30%%", ph, mape)
		}
	}
}
