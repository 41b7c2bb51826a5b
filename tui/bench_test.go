package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

// bigModel is a dashboard showing a 20,000-row report: the demo ranking's
// rows replicated with distinct configurations (row IDs).
func bigModel(b *testing.B, n int) *Model {
	return bigModelOpts(b, n, false)
}

func bigModelOpts(b *testing.B, n int, color bool) *Model {
	b.Helper()
	e := newEnv(b)
	opts := e.options()
	opts.NoColor = !color
	m := New(b.Context(), opts)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	drive(b, m, m.Init())
	base := m.report.Recommendations
	rep := *m.report
	rep.Recommendations = make([]engine.Recommendation, n)
	for i := range n {
		r := base[i%len(base)]
		r.SequenceLength = 100000 + i // distinct configuration key
		r.Rank = i + 1
		rep.Recommendations[i] = r
	}
	m.setReport(&rep)
	if m.recs.Total() != n {
		b.Fatalf("%d rows", m.recs.Total())
	}
	return m
}

// BenchmarkView20k renders the screen while the cursor walks down one row
// per frame (the usual case: most rows come from the row cache).
func BenchmarkView20k(b *testing.B) {
	m := bigModel(b, 20000)
	b.ReportAllocs()
	for b.Loop() {
		m.recs.Move(1)
		_ = m.View()
	}
}

// BenchmarkView20kPageDown renders after a page down every frame, so every
// visible row is rendered afresh (cold cache).
func BenchmarkView20kPageDown(b *testing.B) {
	m := bigModel(b, 20000)
	b.ReportAllocs()
	for b.Loop() {
		m.recs.Move(m.recs.PageSize())
		if m.recs.Cursor() == m.recs.Len()-1 {
			m.recs.Top()
		}
		_ = m.View()
	}
}

// BenchmarkSort20k re-sorts 20,000 rows (the s key).
func BenchmarkSort20k(b *testing.B) {
	m := bigModel(b, 20000)
	for b.Loop() {
		m.recs.CycleSort()
	}
}

// BenchmarkFilter20k applies a filter keystroke to 20,000 rows.
func BenchmarkFilter20k(b *testing.B) {
	m := bigModel(b, 20000)
	qs := []string{"c", "cu", "cud", "cuda", ""}
	i := 0
	for b.Loop() {
		m.recs.SetFilter(qs[i%len(qs)])
		i++
	}
}

// BenchmarkView20kPageDownColor is the cold-cache case with colours on.
func BenchmarkView20kPageDownColor(b *testing.B) {
	m := bigModelOpts(b, 20000, true)
	b.ReportAllocs()
	for b.Loop() {
		m.recs.Move(m.recs.PageSize())
		if m.recs.Cursor() == m.recs.Len()-1 {
			m.recs.Top()
		}
		_ = m.View()
	}
}
