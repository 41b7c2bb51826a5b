package tui

import (
	"context"
	"testing"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/store"
)

// openDemo opens the demo database the way the command does.
func openDemo(b *testing.B, path string) (*store.DB, *engine.Catalog) {
	ctx := context.Background()
	cat, _ := engine.NewBuiltinCatalog()
	db, err := store.Open(ctx, path, store.WithSeed(func() []engine.Result { return engine.DemoHistory(cat) }))
	if err != nil {
		b.Fatal(err)
	}
	if err := db.LoadCatalog(ctx, cat); err != nil {
		b.Fatal(err)
	}
	return db, cat
}

// BenchmarkFirstFrame: from opening the demo database to the first frame
// (header, tabs, spinner; the ranking follows in the background). Target
// ≤ 300 ms.
func BenchmarkFirstFrame(b *testing.B) {
	e := newEnv(b)
	e.db.Close()
	ctx := context.Background()
	for b.Loop() {
		db, cat := openDemo(b, e.path)
		m := New(ctx, Options{DB: db, Catalog: cat, Seed: 1, Now: clock, NoColor: true})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty first frame")
		}
		db.Close()
	}
}

// BenchmarkFirstRanking: from opening the demo database to the frame that
// shows the ranked table (fit, integrate, render).
func BenchmarkFirstRanking(b *testing.B) {
	e := newEnv(b)
	e.db.Close()
	for b.Loop() {
		db, cat := openDemo(b, e.path)
		m := newModel(b, &testEnv{db: db, cat: cat, dir: e.dir, path: e.path})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
		db.Close()
	}
}
