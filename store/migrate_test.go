package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"perfpilot/engine"
)

// testdata/schema1.db was written by perfpilot at schema 1 (before typed
// session parameters): "cli-session" by `integrate --save` with every
// ranking flag set, "plain" by `integrate --save` with the defaults, and
// "dashboard" as the dashboard saved them (no extra map).
func TestMigrateSchema1Sessions(t *testing.T) {
	data, err := os.ReadFile("testdata/schema1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	ctx := context.Background()
	want := map[string]SessionParams{
		"cli-session": {RankParams: engine.RankParams{Metric: engine.Latency, Budget: 3, Seed: 1, InfoWeight: 0.6, DecisionWeight: 0.4,
			Hardware: []string{"cuda", "rocm", "cpu"}, MaxPerHardware: 2, AvailabilityWeighted: true,
			Constraints: engine.Constraints{MaxPowerW: 400, MinMemoryGB: 8}}},
		"plain":     {RankParams: engine.RankParams{Metric: engine.Throughput, Budget: 2, Seed: 1, InfoWeight: 0.7, DecisionWeight: 0.3}},
		"dashboard": {RankParams: engine.RankParams{Metric: engine.Memory, Budget: 20, Seed: 7}},
	}
	for name, w := range want {
		s, err := db.Session(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(s.Params, w) {
			t.Errorf("%s: params\n got %+v\nwant %+v", name, s.Params, w)
		}
		if rows := map[string]int{"cli-session": 3, "plain": 2, "dashboard": 2}[name]; len(s.Report.Recommendations) != rows {
			t.Errorf("%s: %d rows, want %d", name, len(s.Report.Recommendations), rows)
		}
	}
	// The old rows still rank: the migrated parameters are valid.
	cat := engine.MustBuiltinCatalog()
	for name := range want {
		s, _ := db.Session(ctx, name)
		if err := s.Params.RankParams.WithDefaults().Validate(cat); err != nil {
			t.Errorf("%s: migrated params do not validate: %v", name, err)
		}
	}
	if n := countResults(t, db); n != 96 {
		t.Errorf("%d results after migration, want the 96 stored", n)
	}
}

func TestLegacyParamsRefuseDamage(t *testing.T) {
	for _, extra := range []map[string]string{
		{"info_weight": "NaN"}, {"info_weight": "-1"}, {"max_per_hardware": "two"}, {"availability_weighted": "maybe"}, {"max_power": "1e999"},
	} {
		if _, err := (legacyParams{Extra: extra}).typed(); err == nil {
			t.Errorf("%v converted without error", extra)
		}
	}
}
