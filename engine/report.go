package engine

import "time"

// Alternative is another hardware scoring close to the best.
type Alternative struct {
	Hardware string  `json:"hardware"`
	Score    float64 `json:"score"`
}

// Interval is a predicted value with its 80% interval, as it appears in JSON.
type Interval struct {
	Value    float64 `json:"value"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Measured bool    `json:"measured,omitempty"`
}

// PredictedMetrics is the "predicted" object of a recommendation.
type PredictedMetrics struct {
	Throughput Interval `json:"throughput"`
	LatencyMS  Interval `json:"latency_ms"`
	MemoryMB   Interval `json:"memory_mb"`
	// Text generation only: a request's throughput is output tokens/s and
	// its latency TTFT + (output − 1) × TPOT.
	TTFTMS           *Interval `json:"ttft_ms,omitempty"`
	TPOTMS           *Interval `json:"tpot_ms,omitempty"`
	OutputTokensPerS *Interval `json:"output_tokens_per_s,omitempty"`
	MaxConcurrency   *Interval `json:"max_concurrency,omitempty"`
	KVCacheMB        *Interval `json:"kv_cache_mb,omitempty"`
}

// Get returns the interval of a metric.
func (p PredictedMetrics) Get(m Metric) Interval {
	switch m {
	case Throughput:
		return p.Throughput
	case Latency:
		return p.LatencyMS
	default:
		return p.MemoryMB
	}
}

// Recommendation is one ranked candidate configuration (seed-compatible).
type Recommendation struct {
	Rank                    int              `json:"rank"`
	ModelName               string           `json:"model_name"`
	ModelType               string           `json:"model_type"`
	Hardware                string           `json:"hardware"`
	BatchSize               int              `json:"batch_size"`
	Precision               Precision        `json:"precision"`
	SequenceLength          int              `json:"sequence_length"`
	ExpectedInformationGain float64          `json:"expected_information_gain"`
	Uncertainty             float64          `json:"uncertainty"`
	Diversity               float64          `json:"diversity"`
	RecommendedHardware     string           `json:"recommended_hardware"`
	HardwareMatch           bool             `json:"hardware_match"`
	HardwareScore           float64          `json:"hardware_score"`
	DecisionValue           float64          `json:"decision_value"`
	ExpectedImprovementPct  float64          `json:"expected_improvement_pct"`
	CombinedScore           float64          `json:"combined_score"`
	Alternatives            []Alternative    `json:"alternatives"`
	Predicted               PredictedMetrics `json:"predicted"`
	// Narrows counts the candidates whose 80% interval measuring this
	// narrows by 10% or more (after the picks ranked above it);
	// FirstOnHardware marks the first measurement of a device that has
	// none, which informs every configuration on it.
	Narrows         int  `json:"narrows"`
	FirstOnHardware bool `json:"first_on_hardware,omitempty"`
	// Text generation (omitted for a forward pass): see Config.
	Phase          Phase       `json:"phase,omitempty"`
	GPUCount       int         `json:"gpu_count,omitempty"`
	Parallelism    Parallelism `json:"parallelism,omitempty"`
	PromptTokens   int         `json:"prompt_tokens,omitempty"`
	OutputTokens   int         `json:"output_tokens,omitempty"`
	ContextTokens  int         `json:"context_tokens,omitempty"`
	ContextSize    int         `json:"context_size,omitempty"`
	PrecisionLabel string      `json:"precision_label,omitempty"`
	WeightBits     float64     `json:"weight_bits,omitempty"`
	KVCache        Precision   `json:"kv_cache_dtype,omitempty"`
}

// NewRecommendation spells a configuration out as a recommendation row.
func NewRecommendation(c Config, modelType string) Recommendation {
	return Recommendation{ModelName: c.Model, ModelType: modelType, Hardware: c.Hardware, BatchSize: c.BatchSize,
		Precision: c.Precision, SequenceLength: c.SequenceLength, Phase: c.Phase, GPUCount: c.GPUCount,
		Parallelism: c.Parallelism, PromptTokens: c.PromptTokens, OutputTokens: c.OutputTokens, ContextTokens: c.ContextTokens,
		ContextSize: c.ContextSize, PrecisionLabel: c.PrecisionLabel, WeightBits: c.WeightBits, KVCache: c.KVCache}
}

// Config returns the configuration the recommendation is about.
func (r Recommendation) Config() Config {
	return Config{Model: r.ModelName, Hardware: r.Hardware, BatchSize: r.BatchSize, Precision: r.Precision, SequenceLength: r.SequenceLength,
		Phase: r.Phase, GPUCount: r.GPUCount, Parallelism: r.Parallelism, PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens,
		ContextTokens: r.ContextTokens, ContextSize: r.ContextSize, PrecisionLabel: r.PrecisionLabel, WeightBits: r.WeightBits, KVCache: r.KVCache}
}

// DataSummary says what the predictions were learned from.
type DataSummary struct {
	Benchmarks int            `json:"benchmarks"`
	Sources    map[string]int `json:"sources"`
}

// Report is the output of Integrate (seed-compatible top level).
type Report struct {
	Recommendations      []Recommendation `json:"recommendations"`
	TotalCandidates      int              `json:"total_candidates"`
	EnhancedCandidates   int              `json:"enhanced_candidates"`
	FinalRecommendations int              `json:"final_recommendations"`
	OptimizationMetric   Metric           `json:"optimization_metric"`
	Strategy             string           `json:"strategy"`
	Timestamp            string           `json:"timestamp"`
	Data                 DataSummary      `json:"data"`
	Seed                 uint64           `json:"seed"`
}

// Strategy is the seed's strategy name.
const Strategy = "integrated_active_learning"

// Summarize counts results by source.
func Summarize(results []Result) DataSummary {
	s := DataSummary{Benchmarks: len(results), Sources: map[string]int{}}
	for _, r := range results {
		s.Sources[r.Source]++
	}
	return s
}

// FormatTimestamp renders the report clock as RFC 3339 in UTC.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
