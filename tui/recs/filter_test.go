package recs

import (
	"testing"

	"perfpilot/engine"
)

func TestMatch(t *testing.T) {
	r := rec{ModelName: "meta-llama/Llama-2-7b-hf", ModelType: "text_generation", Hardware: "a100", BatchSize: 8, Precision: engine.INT8}
	backend := func(hw string) string {
		if hw == "a100" {
			return "cuda"
		}
		return ""
	}
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"int8", true}, {"fp16", false}, {"b:8", true}, {"batch:8", true}, {"b:80", false}, {"b:x", false},
		{"p:int8", true}, {"p:int", false}, {"hw:cuda", true}, {"hw:a100", true}, {"hw:rocm", false},
		{"cuda", true}, {"llama b:8 p:int8", true}, {"llama b:16", false}, {"m:llama", true}, {"text_gen", true},
	} {
		if got := Match(r, tc.q, backend); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
