package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestRankFiniteAtEveryBudget: no NaN or Inf leaves the engine. For every metric and
// every budget up to the full candidate count, every number in the report
// is finite. Greedy picking makes the report of budget b the first b picks
// of the full one, so the full budget covers every smaller one; the test
// checks that prefix property on a spread of budgets too.
func TestRankFiniteAtEveryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("ranks every candidate three times")
	}
	ctx := context.Background()
	_, p := demoPredictor(t)
	for _, metric := range Metrics {
		t.Run(string(metric), func(t *testing.T) {
			probe, err := Rank(ctx, p, RankParams{Metric: metric, Budget: 1}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			full, err := Rank(ctx, p, RankParams{Metric: metric, Budget: probe.TotalCandidates}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if full.FinalRecommendations != full.TotalCandidates {
				t.Fatalf("full budget gave %d of %d candidates", full.FinalRecommendations, full.TotalCandidates)
			}
			assertFinite(t, reflect.ValueOf(full).Elem(), "report")
			for _, budget := range []int{1, 2, 7, 20, 368, full.TotalCandidates / 2, full.TotalCandidates - 1} {
				rep, err := Rank(ctx, p, RankParams{Metric: metric, Budget: budget}, testNow)
				if err != nil {
					t.Fatalf("budget %d: %v", budget, err)
				}
				assertFinite(t, reflect.ValueOf(rep).Elem(), "report")
				for i, r := range rep.Recommendations {
					f := full.Recommendations[i]
					if r.Config() != f.Config() || r.CombinedScore != f.CombinedScore || r.DecisionValue != f.DecisionValue {
						t.Fatalf("budget %d row %d is %v (%.4g), the full ranking's is %v (%.4g)", budget, i, r.Config(), r.CombinedScore, f.Config(), f.CombinedScore)
					}
				}
			}
		})
	}
}

// assertFinite fails on any NaN or Inf float reachable from v.
func assertFinite(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("%s = %v", path, f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				assertFinite(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			assertFinite(t, v.Index(i), path+"[]")
		}
	case reflect.Pointer:
		if !v.IsNil() {
			assertFinite(t, v.Elem(), path)
		}
	}
}

func TestRound4Tiny(t *testing.T) {
	for _, v := range []float64{1e-305, 1e-306, 3.3e-310, 5e-324, -1e-320, 123456, 0.000123456} {
		r := round4(v)
		if math.IsNaN(r) || math.IsInf(r, 0) || math.Abs(r-v) > math.Abs(v)*1e-3 {
			t.Errorf("round4(%g) = %g", v, r)
		}
	}
}

func TestRankConstraintNothingQualifies(t *testing.T) {
	_, p := demoPredictor(t)
	_, err := Rank(context.Background(), p, RankParams{Budget: 5, Constraints: Constraints{MaxPowerW: 1}}, testNow)
	var ce *ConstraintError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--max-power 1") || !strings.Contains(err.Error(), "exceeds --max-power") {
		t.Fatalf("want a ConstraintError naming --max-power 1, got %v", err)
	}
	// A constraint some hardware meets keeps only rows that can be recommended.
	rep, err := Rank(context.Background(), p, RankParams{Budget: 30, Constraints: Constraints{MaxPowerW: 100}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Recommendations {
		if r.RecommendedHardware == "" {
			t.Fatalf("row %d (%v) has no recommended hardware", r.Rank, r.Config())
		}
	}
}

func TestRankParamsValidate(t *testing.T) {
	cat := MustBuiltinCatalog()
	bad := []RankParams{
		{Metric: "speed", Budget: 1, InfoWeight: 1},
		{Metric: Throughput, Budget: -1, InfoWeight: 1},
		{Metric: Throughput, Budget: 1, InfoWeight: math.NaN()},
		{Metric: Throughput, Budget: 1, InfoWeight: math.Inf(1)},
		{Metric: Throughput, Budget: 1, InfoWeight: -0.5, DecisionWeight: 1},
		{Metric: Throughput, Budget: 1, InfoWeight: 1, MaxPerHardware: -2},
		{Metric: Throughput, Budget: 1, InfoWeight: 1, Hardware: []string{"tpu"}},
		{Metric: Throughput, Budget: 1, InfoWeight: 1, Constraints: Constraints{MaxPowerW: math.NaN()}},
		{Metric: Throughput, Budget: 1, InfoWeight: 1, Constraints: Constraints{MinMemoryGB: -1}},
		{Metric: Throughput, Budget: 1, InfoWeight: 1, Constraints: Constraints{MaxDeployment: 1.5}},
	}
	for i, p := range bad {
		if err := p.Validate(cat); err == nil {
			t.Errorf("case %d: %+v validated", i, p)
		}
	}
	if err := (RankParams{}).WithDefaults().Validate(cat); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

// TestRankFiniteWithManyResults: NaN once appeared at every budget when a
// database held 10k–20k results (tiny decision values). 12,000 simulated
// measurements in twelve sources, every metric, a small and the full budget.
func TestRankFiniteWithManyResults(t *testing.T) {
	if testing.Short() {
		t.Skip("fits on 12,000 results")
	}
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	space := DefaultSpace(cat)
	var rs []Result
	for round := uint64(0); len(rs) < 12_000; round++ {
		batch := SimulateHistory(cat, DemoWorld, space, 1000, round+7)
		for i := range batch {
			batch[i].Source = fmt.Sprintf("sim-%d", round)
		}
		rs = append(rs, batch...)
	}
	for _, metric := range Metrics {
		rep, p, err := Plan(ctx, cat, rs, RankParams{Metric: metric, Budget: 20}, testNow)
		if err != nil {
			t.Fatalf("%s: %v", metric, err)
		}
		assertFinite(t, reflect.ValueOf(rep).Elem(), "report")
		full, err := Rank(ctx, p, RankParams{Metric: metric, Budget: max(rep.TotalCandidates, 1)}, testNow)
		if err != nil {
			t.Fatalf("%s full budget: %v", metric, err)
		}
		assertFinite(t, reflect.ValueOf(full).Elem(), "report")
	}
}

// TestPlanSurvivesExtremeMeasurements: a row kept with --allow-implausible
// (or from an older database) may hold any positive finite value; the fit
// must neither fail nor let a non-finite number out, whether the odd row
// is alone, among identical copies, or beside the demo history.
func TestPlanSurvivesExtremeMeasurements(t *testing.T) {
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	demo := DemoHistory(cat)
	base := Result{Config: Config{Model: "gpt2", Hardware: "cpu", BatchSize: 1, Precision: FP32}, Source: "odd"}
	var cases []struct {
		name string
		rs   []Result
	}
	for _, v := range []float64{1e-300, 1e300, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		for _, metric := range Metrics {
			r := base
			switch metric {
			case Throughput:
				r.Throughput = v
			case Latency:
				r.LatencyMS = v
			case Memory:
				r.MemoryMB = v
			}
			r.Config, _ = cat.Normalize(r.Config)
			name := fmt.Sprintf("%s=%g", metric, v)
			cases = append(cases, struct {
				name string
				rs   []Result
			}{name + " alone", []Result{r}}, struct {
				name string
				rs   []Result
			}{name + " x3", []Result{r, r, r}})
			if v == 1e-300 || v == 1e300 { // a fit on the demo history is the slow part
				cases = append(cases, struct {
					name string
					rs   []Result
				}{name + " with demo", append(append([]Result{}, demo...), r)})
			}
		}
	}
	for _, c := range cases {
		rep, p, err := Plan(ctx, cat, c.rs, RankParams{Budget: 5}, testNow)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		assertFinite(t, reflect.ValueOf(rep).Elem(), c.name+" report")
		for _, metric := range Metrics {
			rep, err := Rank(ctx, p, RankParams{Metric: metric, Budget: 5}, testNow)
			if err != nil {
				t.Fatalf("%s, ranking %s: %v", c.name, metric, err)
			}
			assertFinite(t, reflect.ValueOf(rep).Elem(), c.name+" report")
		}
		pr, err := p.Predict(base.Config)
		if err != nil {
			t.Fatalf("%s: predict: %v", c.name, err)
		}
		assertFinite(t, reflect.ValueOf(pr), c.name+" prediction")
	}
}
