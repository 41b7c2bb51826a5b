package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"perfpilot/engine"
	"perfpilot/safetext"
)

// generationFlags shape a text-generation configuration: predict and
// recommend-hardware take all of them, integrate the request shape and
// GPU count of every text-generation candidate.
type generationFlags struct {
	PromptTokens, OutputTokens, GPUCount int
	Phase, Parallelism, Label, KVCache   string
	single                               bool // one configuration (predict, recommend-hardware)
}

func (o *generationFlags) add(f *pflag.FlagSet, single bool) {
	o.single = single
	f.IntVar(&o.PromptTokens, "prompt-tokens", 0, "text generation: prompt `TOKENS` (default: the model's, e.g. 512)")
	f.IntVar(&o.OutputTokens, "output-tokens", 0, "text generation: output `TOKENS` (default: the model's, e.g. 128)")
	f.IntVar(&o.GPUCount, "gpu-count", 0, "text generation: GPUs the model is split over (default: one; integrate adds more where the weights need them)")
	withRange(f, "prompt-tokens", 0, engine.MaxTokens)
	withRange(f, "output-tokens", 0, engine.MaxTokens)
	withRange(f, "gpu-count", 0, engine.MaxGPUCount)
	if !single {
		return
	}
	f.StringVar(&o.Phase, "phase", "", "text generation: generate (a whole request, the default), prefill or decode; forward for one pass")
	f.StringVar(&o.Parallelism, "parallelism", "", "split over several GPUs: tensor (default), layer or row")
	f.StringVar(&o.Label, "precision-label", "", "weight format, e.g. q4_0, q4_k_m, awq, gptq (sets the bits per weight)")
	f.StringVar(&o.KVCache, "kv-cache-dtype", "", "KV cache element type: fp16 (default), fp8, int8 or fp32")
}

// check refuses out-of-range values, naming the flag.
func (o *generationFlags) check() error {
	if _, err := engine.ParsePhase(o.Phase); err != nil {
		return usagef("--phase: %v", err)
	}
	if _, err := engine.ParseParallelism(o.Parallelism); err != nil {
		return usagef("--parallelism: %v", err)
	}
	if o.Label != "" {
		if err := safetext.CheckID(o.Label); err != nil {
			return usagef("--precision-label: %v", err)
		}
	}
	if o.KVCache != "" {
		if _, err := engine.ParsePrecision(o.KVCache); err != nil {
			return usagef("--kv-cache-dtype: %v", err)
		}
	}
	return nil
}

// apply sets the flags on a configuration of model m (on hardware h, when
// one is named): a text-generation model is predicted as a whole request
// unless --phase says otherwise; other models refuse the generation flags.
func (o *generationFlags) apply(cfg engine.Config, m *engine.Model, h *engine.Hardware) (engine.Config, error) {
	if err := o.check(); err != nil {
		return cfg, err
	}
	if h != nil && o.GPUCount > h.MaxGPUs() {
		return cfg, usagef("--gpu-count: %d: a machine holds at most %d of %s (its catalog max_count)", o.GPUCount, h.MaxGPUs(), h.ID)
	}
	phase, _ := engine.ParsePhase(o.Phase)
	gen := m.ModelType == "text_generation" && m.Arch.Generates()
	if !gen {
		if o.PromptTokens != 0 || o.OutputTokens != 0 || o.GPUCount > 1 || phase != engine.Forward {
			return cfg, usagef("--prompt-tokens, --output-tokens, --gpu-count and --phase apply to text-generation models; %s is %s", m.ID, m.ModelType)
		}
		return cfg, nil
	}
	if o.Phase == "" {
		phase = engine.Generate
	}
	cfg.Phase, cfg.PromptTokens, cfg.OutputTokens, cfg.GPUCount = phase, o.PromptTokens, o.OutputTokens, o.GPUCount
	cfg.Parallelism, cfg.PrecisionLabel, cfg.KVCache = engine.Parallelism(o.Parallelism), o.Label, engine.Precision(o.KVCache)
	return cfg, nil
}

// metricRows are the rows predict prints: the three metrics in the
// configuration's units, then what a text-generation prediction adds.
func metricRows(cfg engine.Config, pm engine.PredictedMetrics) []metricRow {
	var rows []metricRow
	for _, m := range engine.Metrics {
		iv := pm.Get(m)
		rows = append(rows, metricRow{string(m), cfg.Unit(m), &iv})
	}
	return append(rows, []metricRow{{"time to first token", "ms", pm.TTFTMS}, {"time per output token", "ms", pm.TPOTMS},
		{"KV cache", "MB", pm.KVCacheMB}, {"max concurrency", "sequences", pm.MaxConcurrency}}...)
}

type metricRow struct {
	name, unit string
	iv         *engine.Interval
}

func printMetricRows(w io.Writer, rows []metricRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tVALUE\t80% INTERVAL\tUNIT\tKIND")
	for _, r := range rows {
		if r.iv == nil {
			continue
		}
		kind := "predicted"
		if r.iv.Measured {
			kind = "measured"
		}
		f := num
		if r.unit == "sequences" {
			f = func(v float64) string { return fmt.Sprintf("%.0f", v) }
		}
		fmt.Fprintf(tw, "%s\t%s\t%s – %s\t%s\t%s\n", r.name, f(r.iv.Value), f(r.iv.Low), f(r.iv.High), r.unit, kind)
	}
	tw.Flush()
}
