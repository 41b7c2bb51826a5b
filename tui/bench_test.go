package tui

import (
	"context"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/store"
)

// bigModel is a dashboard showing an n-row report: the demo ranking's rows
// replicated with distinct configurations.
func bigModel(b *testing.B, n int, color bool) *Model {
	b.Helper()
	opts := newEnv(b).options()
	opts.NoColor = !color
	m := sizedModel(b, opts, 120, 35)
	base := m.report.Recommendations
	rep := *m.report
	rep.Recommendations = make([]engine.Recommendation, n)
	for i := range n {
		r := base[i%len(base)]
		r.SequenceLength = 100000 + i // a distinct configuration
		r.Rank = i + 1
		rep.Recommendations[i] = r
	}
	m.setReport(&rep)
	if m.recs.Table().Total() != n {
		b.Fatalf("%d rows", m.recs.Table().Total())
	}
	return m
}

// BenchmarkView20k renders the screen while the cursor walks down one row
// per frame (most rows come from the row cache).
func BenchmarkView20k(b *testing.B) {
	m := bigModel(b, 20000, false)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(press("j"))
		_ = m.View()
	}
}

// BenchmarkView20kPageDown renders after a page down every frame, so every
// visible row is rendered afresh.
func BenchmarkView20kPageDown(b *testing.B) {
	m := bigModel(b, 20000, true)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(press("pgdown"))
		if t := m.recs.Table(); t.Cursor() == t.Len()-1 {
			m.Update(press("g"))
		}
		_ = m.View()
	}
}

// openDemo opens a demo database the way the command does.
func openDemo(b *testing.B, path string) *store.DB {
	db, err := store.Open(context.Background(), path, store.WithSeed(func() []engine.Result { return engine.DemoHistory(testCatalog) }))
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkFirstFrame: from opening the demo database to the first frame
// (header, tabs, spinner; the ranking follows in the background).
func BenchmarkFirstFrame(b *testing.B) {
	path := filepath.Join(b.TempDir(), "demo.db")
	openDemo(b, path).Close()
	for b.Loop() {
		db := openDemo(b, path)
		m := New(context.Background(), Options{Store: db, Catalog: testCatalog, Seed: 1, Now: clock, NoColor: true})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty first frame")
		}
		db.Close()
	}
}

// BenchmarkFirstRankedFrame: from opening the demo database to the frame
// that shows the ranked table (load, fit, rank, render) with the real
// engine pipeline.
func BenchmarkFirstRankedFrame(b *testing.B) {
	path := filepath.Join(b.TempDir(), "demo.db")
	openDemo(b, path).Close()
	for b.Loop() {
		db := openDemo(b, path)
		m := sizedModel(b, Options{Store: db, Catalog: testCatalog, Seed: 1, Now: clock, NoColor: true}, 120, 35)
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
		db.Close()
	}
}
