package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func demoPredictor(t testing.TB) (*Catalog, *Predictor) {
	t.Helper()
	cat := MustBuiltinCatalog()
	p, err := NewPredictor(context.Background(), cat, DemoHistory(cat), PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cat, p
}

func TestIntegrateInvariants(t *testing.T) {
	ctx := context.Background()
	cat, p := demoPredictor(t)
	for _, metric := range Metrics {
		t.Run(string(metric), func(t *testing.T) {
			rep, err := Rank(ctx, p, RankParams{Budget: 15, Metric: metric, Seed: 1}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			// total_candidates counts the unmeasured feasible configurations.
			b, _ := p.PredictAll(ctx, DefaultSpace(cat).Configs(cat))
			want := 0
			for _, pr := range b.Preds {
				if pr.Feasible && !pr.Measured() {
					want++
				}
			}
			if rep.TotalCandidates != want || rep.EnhancedCandidates != want {
				t.Errorf("total/enhanced candidates %d/%d, want %d", rep.TotalCandidates, rep.EnhancedCandidates, want)
			}
			if len(rep.Recommendations) != 15 || rep.FinalRecommendations != 15 {
				t.Fatalf("budget 15 gave %d rows (final %d)", len(rep.Recommendations), rep.FinalRecommendations)
			}
			if rep.Strategy != "integrated_active_learning" || rep.OptimizationMetric != metric || rep.Timestamp != "2026-11-27T12:00:00Z" {
				t.Errorf("top level: %q %q %q", rep.Strategy, rep.OptimizationMetric, rep.Timestamp)
			}
			seen := map[string]bool{}
			for i, r := range rep.Recommendations {
				if r.Rank != i+1 {
					t.Errorf("row %d has rank %d", i, r.Rank)
				}
				// Scores need not fall with rank: a pick is the best when
				// made, and conditioning on it can raise another candidate's
				// relative gain (its predictive variance shrinks too).
				want := 0.7*r.ExpectedInformationGain + 0.3*r.DecisionValue
				if math.Abs(r.CombinedScore-want) > 2e-4 {
					t.Errorf("rank %d: combined %.4f != 0.7×%.4f + 0.3×%.4f", r.Rank, r.CombinedScore, r.ExpectedInformationGain, r.DecisionValue)
				}
				for name, v := range map[string]float64{"eig": r.ExpectedInformationGain, "dv": r.DecisionValue, "uncertainty": r.Uncertainty, "diversity": r.Diversity} {
					if v < 0 || v > 1 {
						t.Errorf("rank %d: %s %.4f outside [0,1]", r.Rank, name, v)
					}
				}
				if r.HardwareMatch != (r.Hardware == r.RecommendedHardware) {
					t.Errorf("rank %d: hardware_match %v for %s vs %s", r.Rank, r.HardwareMatch, r.Hardware, r.RecommendedHardware)
				}
				if r.HardwareMatch && r.ExpectedImprovementPct != 0 {
					t.Errorf("rank %d: a match with improvement %.1f%%", r.Rank, r.ExpectedImprovementPct)
				}
				if seen[r.Config().Key()] {
					t.Errorf("rank %d repeats %s", r.Rank, r.Config())
				}
				seen[r.Config().Key()] = true
				if p.Measured(r.Config()) {
					t.Errorf("rank %d is already measured", r.Rank)
				}
				// Alternatives: the others scoring at least 0.8 × the best, at most 3.
				hr, err := p.RecommendHardware(ctx, r.Config().Group(), metric, nil, Recommender{})
				if err != nil {
					t.Fatal(err)
				}
				if hr.RecommendedHardware != r.RecommendedHardware {
					t.Errorf("rank %d: recommended %s, recommender says %s", r.Rank, r.RecommendedHardware, hr.RecommendedHardware)
				}
				var wantAlts []Alternative
				for _, s := range hr.Ranking[1:] {
					if s.Eligible && s.Score >= 0.8*hr.Ranking[0].Score && len(wantAlts) < 3 {
						wantAlts = append(wantAlts, Alternative{s.Hardware, s.Score})
					}
				}
				if len(r.Alternatives) > 3 || !slices.Equal(r.Alternatives, wantAlts) && !(len(wantAlts) == 0 && len(r.Alternatives) == 0) {
					t.Errorf("rank %d alternatives %v, want %v", r.Rank, r.Alternatives, wantAlts)
				}
				if s := hr.Score(r.Hardware); s == nil || math.Abs(s.Score-r.HardwareScore) > 1e-9 {
					t.Errorf("rank %d: hardware_score %.4f does not match the ranking", r.Rank, r.HardwareScore)
				}
			}
		})
	}
}

func TestIntegrateDeterministic(t *testing.T) {
	ctx := context.Background()
	run := func() []byte {
		_, p := demoPredictor(t)
		rep, err := Rank(ctx, p, RankParams{Budget: 10, Metric: Throughput, Seed: 1}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rep)
		return b
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Error("same data, flags and seed gave different JSON")
	}
}

func TestIntegrateWeightsAndCaps(t *testing.T) {
	ctx := context.Background()
	_, p := demoPredictor(t)
	rep, err := Rank(ctx, p, RankParams{Budget: 12, Metric: Latency, InfoWeight: 0.2, DecisionWeight: 0.8, MaxPerHardware: 2}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	perHW := map[string]int{}
	for _, r := range rep.Recommendations {
		perHW[r.Hardware]++
		if want := 0.2*r.ExpectedInformationGain + 0.8*r.DecisionValue; math.Abs(r.CombinedScore-want) > 2e-4 {
			t.Errorf("custom weights: combined %.4f, want %.4f", r.CombinedScore, want)
		}
	}
	for hw, n := range perHW {
		if n > 2 {
			t.Errorf("%s picked %d times with a cap of 2", hw, n)
		}
	}
	if _, err := Rank(ctx, p, RankParams{Budget: -1}, testNow); err == nil {
		t.Error("budget -1 accepted")
	}
}

func TestMetricToggleChangesRanking(t *testing.T) {
	ctx := context.Background()
	_, p := demoPredictor(t)
	keys := func(m Metric) []string {
		rep, err := Rank(ctx, p, RankParams{Budget: 10, Metric: m}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rep.Recommendations {
			out = append(out, fmt.Sprintf("%s→%s", r.Config().Key(), r.RecommendedHardware))
		}
		return out
	}
	if slices.Equal(keys(Throughput), keys(Memory)) {
		t.Error("throughput and memory give the same ranking")
	}
	// Llama-2-7b at batch 8, fp16, for throughput belongs on a datacenter GPU.
	hr, err := p.RecommendHardware(ctx, Config{Model: "meta-llama/Llama-2-7b-hf", BatchSize: 8, Precision: FP16, SequenceLength: 0}, Throughput, nil, Recommender{})
	if err != nil {
		t.Fatal(err)
	}
	if hw := p.cat.Hardware(hr.RecommendedHardware); hw.Backend != "cuda" && hw.Backend != "rocm" {
		t.Errorf("Llama-2-7b fp16 b8 throughput → %s, want a datacenter GPU", hr.RecommendedHardware)
	}
	// For memory it is not the same ranking of hardware.
	hm, _ := p.RecommendHardware(ctx, Config{Model: "meta-llama/Llama-2-7b-hf", BatchSize: 8, Precision: FP16, SequenceLength: 0}, Memory, nil, Recommender{})
	order := func(h *HardwareRanking) (s []string) {
		for _, r := range h.Ranking {
			s = append(s, r.Hardware)
		}
		return
	}
	if slices.Equal(order(hr), order(hm)) {
		t.Error("memory ranks hardware exactly as throughput does")
	}
}

func TestRecommenderConstraints(t *testing.T) {
	ctx := context.Background()
	_, p := demoPredictor(t)
	rec := Recommender{Constraints: Constraints{MaxPowerW: 100}}
	hr, err := p.RecommendHardware(ctx, Config{Model: "bert-base-uncased", BatchSize: 8, Precision: FP32, SequenceLength: 0}, Throughput, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range hr.Ranking {
		if s.Eligible && p.cat.Hardware(s.Hardware).TDPWatts > 100 {
			t.Errorf("%s (%.0f W) eligible under --max-power 100", s.Hardware, p.cat.Hardware(s.Hardware).TDPWatts)
		}
	}
	// Nothing fits: say so, never fall back silently.
	_, err = p.RecommendHardware(ctx, Config{Model: "meta-llama/Llama-2-7b-hf", BatchSize: 8, Precision: FP16, SequenceLength: 0}, Throughput, nil, Recommender{Constraints: Constraints{MaxPowerW: 20}})
	var none *NoHardwareError
	if !errors.As(err, &none) || len(none.Reasons) == 0 {
		t.Fatalf("want NoHardwareError with reasons, got %v", err)
	}
	// Breakdown contributions add up to the score.
	for _, s := range hr.Ranking {
		sum := 0.0
		for _, c := range s.Breakdown {
			sum += c.Contribution
		}
		if s.Eligible && math.Abs(sum-s.Score) > 1e-3 {
			t.Errorf("%s: breakdown sums to %.4f, score %.4f", s.Hardware, sum, s.Score)
		}
	}
}

func TestSelectBatchConditionsOnPicks(t *testing.T) {
	ctx := context.Background()
	cat, p := demoPredictor(t)
	picks, err := p.SelectBatch(ctx, DefaultSpace(cat).Configs(cat), Latency, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) != 6 || picks[0].InformationGain != 1 {
		t.Fatalf("picks %+v", picks)
	}
	seen := map[string]bool{}
	for i, c := range picks {
		if seen[c.Key()] {
			t.Errorf("pick %d repeats %s", i, c.Config)
		}
		seen[c.Key()] = true
		if i > 0 && c.InformationGain > picks[i-1].InformationGain+1e-12 {
			t.Errorf("gain rose after conditioning: %v", picks)
		}
	}
}

func TestGainEqualsVarianceRemoved(t *testing.T) {
	// R_j must equal the drop in total epistemic variance over the
	// candidates when j is conditioned on.
	ctx := context.Background()
	cat, p := demoPredictor(t)
	cfgs := DefaultSpace(cat).Configs(cat)[:300]
	lb, err := p.predictLearn(ctx, cfgs, Latency)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, len(lb.openRows))
	for j := range rows {
		rows[j] = j
	}
	for _, j := range []int{0, 7, len(rows) / 2} {
		sel, err := newSelector(ctx, lb.open, rows)
		if err != nil {
			t.Fatal(err)
		}
		before := 0.0
		for i, v := range sel.s {
			// The selector's extended posterior (unseen levels as columns)
			// agrees with the predictor's (unseen levels as prior variance).
			if w := *lb.open.vars.at(rows[i]); math.Abs(v-w) > 1e-9*math.Max(1, w) {
				t.Fatalf("candidate %d: selector variance %.9g, predictor %.9g", i, v, w)
			}
			before += v
		}
		want := sel.reduction(j)
		sel.condition(j)
		after := 0.0
		for _, v := range sel.s {
			after += v
		}
		if got := before - after; math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("candidate %d: R_j %.6g but variance fell by %.6g", j, want, got)
		}
	}
}

func TestFirstMeasurementOnNewDeviceRanksNearTop(t *testing.T) {
	// The demo history without any qnn result: measuring qnn once informs
	// every qnn configuration (the device's offset is shared), so the
	// learner's first pick is on qnn, and the ranking puts a qnn row near
	// the top, marked as the first measurement there.
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	var hist []Result
	for _, r := range DemoHistory(cat) {
		if r.Hardware != "qnn" {
			hist = append(hist, r)
		}
	}
	p, err := NewPredictor(ctx, cat, hist, PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	picks, err := p.SelectBatch(ctx, DefaultSpace(cat).Configs(cat), Latency, 3)
	if err != nil {
		t.Fatal(err)
	}
	if picks[0].Hardware != "qnn" || !picks[0].FirstOnHardware || picks[0].Narrows < 20 {
		t.Fatalf("first pick %+v; want the first qnn measurement, narrowing many configurations", picks[0])
	}
	for _, c := range picks[1:] {
		if c.Hardware == "qnn" && c.FirstOnHardware {
			t.Errorf("a second qnn pick is marked first: %+v", c)
		}
	}
	rep, err := Rank(ctx, p, RankParams{Budget: 10, Metric: Throughput}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Recommendations {
		if r.Hardware == "qnn" {
			if r.Rank > 3 || !r.FirstOnHardware || r.Narrows < 20 {
				t.Fatalf("first qnn row: rank %d first %v narrows %d", r.Rank, r.FirstOnHardware, r.Narrows)
			}
			t.Logf("first measurement on qnn: rank %d, narrows %d configurations", r.Rank, r.Narrows)
			return
		}
	}
	t.Fatal("no qnn row in the top 10")
}
