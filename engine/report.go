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
}

// Config returns the configuration the recommendation is about.
func (r Recommendation) Config() Config {
	return Config{Model: r.ModelName, Hardware: r.Hardware, BatchSize: r.BatchSize, Precision: r.Precision, SequenceLength: r.SequenceLength}
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
