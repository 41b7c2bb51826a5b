package tui

import (
	"testing"

	"perfpilot/engine"
)

// TestTokensReshapeLLMRows: T sets the prompt and output tokens of every
// text-generation row, the header shows them, the rows carry them with
// TTFT and TPOT, and a bad answer changes nothing.
func TestTokensReshapeLLMRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	mustContain(t, screen(m), "tokens default (T)")
	llm := func() []engine.Recommendation {
		var out []engine.Recommendation
		for _, r := range m.report.Recommendations {
			if r.Phase == engine.Generate {
				out = append(out, r)
			}
		}
		return out
	}
	if len(llm()) == 0 {
		m.budget = 200 // every row the demo ranks, so text-generation rows are among them
		keys(t, m, "+")
	}
	if len(llm()) == 0 {
		t.Fatal("no text-generation rows ranked")
	}
	for _, r := range llm() {
		if r.Predicted.TTFTMS == nil || r.Predicted.TPOTMS == nil || r.Predicted.MaxConcurrency == nil {
			t.Fatalf("%s lacks TTFT/TPOT/max concurrency: %+v", r.Config(), r.Predicted)
		}
	}
	keys(t, m, "T")
	typeText(t, m, "1024+256")
	keys(t, m, "enter")
	mustContain(t, screen(m), "tokens 1024+256 (T)", "TTFT", "TPOT")
	for _, r := range llm() {
		if r.PromptTokens != 1024 || r.OutputTokens != 256 {
			t.Fatalf("row %s after T 1024+256", r.Config())
		}
	}
	if p := m.sessionParams(); p.PromptTokens != 1024 || p.OutputTokens != 256 {
		t.Errorf("session params %+v", p.RankParams)
	}
	for _, bad := range []string{"1024", "a+b", "0+5", "-1+3", "99999999+1"} {
		keys(t, m, "T")
		clearInput(t, m)
		typeText(t, m, bad)
		keys(t, m, "enter")
		mustContain(t, screen(m), "tokens 1024+256 (T)")
	}
	keys(t, m, "T")
	clearInput(t, m)
	typeText(t, m, "default+64")
	keys(t, m, "enter")
	mustContain(t, screen(m), "tokens default+64 (T)")
	keys(t, m, "T")
	clearInput(t, m)
	typeText(t, m, "default")
	keys(t, m, "enter")
	mustContain(t, screen(m), "tokens default (T)")
	for _, r := range llm() {
		if r.PromptTokens == 1024 {
			t.Fatalf("row %s kept 1024 prompt tokens after clearing", r.Config())
		}
	}
}

// The detail pane of a text-generation row speaks its units: throughput in
// tokens/s in its bars and its "why" line, not items/s.
func TestDetailOfLLMRowInTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	for i := 0; i < len(m.report.Recommendations); i++ {
		if r, ok := m.currentRec(); ok && r.Phase == engine.Generate {
			break
		}
		keys(t, m, "j")
	}
	if r, ok := m.currentRec(); !ok || r.Phase != engine.Generate {
		t.Fatal("no text-generation row in the demo ranking")
	}
	keys(t, m, "enter")
	s := screen(m)
	mustContain(t, s, "throughput (tokens/s), 80% interval")
	mustNotContain(t, s, "items/s), 80% interval")
}
