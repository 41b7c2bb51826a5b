package engine

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuiltinCatalog(t *testing.T) {
	c := MustBuiltinCatalog()
	if len(c.DefaultHardware) != 8 || len(c.DefaultModels) != 10 {
		t.Fatalf("default space: %d hardware, %d models; want 8 and 10", len(c.DefaultHardware), len(c.DefaultModels))
	}
	for _, id := range []string{"h100-sxm", "t4", "l4", "v100", "rtx4090"} {
		if c.Hardware(id) == nil {
			t.Errorf("extra device %s missing", id)
		}
	}
	// Parameter counts derived from the configs match the published sizes.
	want := map[string]float64{"bert-base-uncased": 110e6, "bert-large-uncased": 335e6, "t5-small": 60.5e6, "gpt2": 124e6,
		"facebook/opt-125m": 125e6, "google/vit-base-patch16-224": 86e6, "openai/whisper-tiny": 39e6,
		"openai/clip-vit-base-patch32": 151e6, "microsoft/resnet-50": 25.6e6, "meta-llama/Llama-2-7b-hf": 6.74e9}
	for id, p := range want {
		got := c.Model(id).Arch.Params
		if math.Abs(got/p-1) > 0.06 {
			t.Errorf("%s: %.1fM params, want about %.1fM", id, got/1e6, p/1e6)
		}
	}
}

func TestUserCatalogReplacesAndResolvesConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "hf/llama.json", `{"model_type":"llama","hidden_size":2048,"intermediate_size":5632,"num_attention_heads":32,
		"num_hidden_layers":22,"num_key_value_heads":4,"vocab_size":32000,"hidden_act":"silu","tie_word_embeddings":false}`)
	writeFile(t, dir, "hf/switch.json", `{"model_type":"switch_transformers","d_model":768,"d_ff":3072,"d_kv":64,"num_layers":12,
		"num_decoder_layers":12,"num_heads":12,"num_experts":8,"encoder_sparse_step":2,"decoder_sparse_step":2,"vocab_size":32128}`)
	p := writeFile(t, dir, "cat.json", `{
	  "hardware": [{"id":"cpu","backend":"cpu","name":"big cpu","peak_tflops":{"fp32":4},"memory_bandwidth_gbps":200,"memory_gb":256,"tdp_watts":350,"availability":1}],
	  "models": [
	    {"id":"TinyLlama/TinyLlama-1.1B","model_type":"text_generation","config":"hf/llama.json","sequence_length":256},
	    {"id":"google/switch-base-8","model_type":"text_generation","config":"hf/switch.json"},
	    {"id":"my-encoder","model_type":"text_embedding","params":30000000,"layers":6,"hidden":512,"heads":8,"intermediate":2048,"vocab":30000,"sequence_length":64}
	  ]}`)
	c := MustBuiltinCatalog()
	if err := c.AddFile(p); err != nil {
		t.Fatal(err)
	}
	if c.Hardware("cpu").MemoryGB != 256 {
		t.Error("user entry did not replace the built-in cpu")
	}
	tl := c.Model("TinyLlama/TinyLlama-1.1B")
	if tl == nil || math.Abs(tl.Arch.Params/1.1e9-1) > 0.05 || tl.Arch.SequenceLength != 256 {
		t.Fatalf("TinyLlama from config: %+v", tl)
	}
	sw := c.Model("google/switch-base-8")
	// Switch-base-8 has ~620M parameters but computes like T5-base per token.
	if sw == nil || sw.Arch.Params < 500e6 || sw.Arch.Params > 700e6 {
		t.Fatalf("switch params %.0fM, want about 620M", sw.Arch.Params/1e6)
	}
	if c.Model("my-encoder").Arch.Params != 30e6 {
		t.Error("explicit params not kept")
	}
	// Additions round-trip without the files they came from.
	doc := c.Additions()
	os.RemoveAll(dir)
	c2 := MustBuiltinCatalog()
	if err := c2.AddJSON(doc, "stored"); err != nil {
		t.Fatalf("reload additions: %v", err)
	}
	if got := c2.Model("TinyLlama/TinyLlama-1.1B"); got == nil || got.Arch.Params != tl.Arch.Params {
		t.Fatal("stored addition did not reload identically")
	}
}

func TestCatalogErrorsNameFileEntryField(t *testing.T) {
	hw := func(extra string) string {
		return `{"hardware":[{"id":"x1","backend":"cuda","peak_tflops":{"fp32":1},"memory_bandwidth_gbps":100,"memory_gb":8,"tdp_watts":50` + extra + `}]}`
	}
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown backend", `{"hardware":[{"id":"tpu","backend":"tpu","peak_tflops":{"fp32":1},"memory_bandwidth_gbps":1,"memory_gb":1,"tdp_watts":1}]}`,
			[]string{`hardware[0] "tpu"`, "backend", `unknown backend "tpu"`}},
		{"negative bandwidth", strings.Replace(hw(""), `"memory_bandwidth_gbps":100`, `"memory_bandwidth_gbps":-5`, 1),
			[]string{`hardware[0] "x1"`, "memory_bandwidth_gbps", "-5 is outside"}},
		{"availability out of range", hw(`,"availability":1.5`), []string{"availability", "outside 0..1"}},
		{"unknown field", hw(`,"memroy_gb":3`), []string{`hardware[0]`, `unknown field "memroy_gb"`}},
		{"missing architecture", `{"models":[{"id":"m","model_type":"text_embedding","params":1000}]}`,
			[]string{`models[0] "m"`, "layers", "missing architecture"}},
		{"unreadable config", `{"models":[{"id":"m","model_type":"vision","config":"nope/config.json"}]}`,
			[]string{`models[0] "m"`, "config", "unreadable", "nope/config.json"}},
		{"bad model type", `{"models":[{"id":"m","model_type":"robot","layers":1,"hidden":8,"heads":1,"vocab":10}]}`,
			[]string{"model_type", `unknown model type "robot"`}},
		{"syntax error has a line", "{\n\"hardware\": [\n{\"id\": }\n]}", []string{"line 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeFile(t, dir, "bad.json", tc.body)
			c := MustBuiltinCatalog()
			before := len(c.HardwareIDs()) + len(c.ModelIDs())
			err := c.AddFile(p)
			if err == nil {
				t.Fatal("accepted a bad catalog")
			}
			var ce *CatalogError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CatalogError", err)
			}
			msg := err.Error()
			for _, w := range append(tc.want, p) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if len(c.HardwareIDs())+len(c.ModelIDs()) != before {
				t.Error("a rejected file changed the catalog")
			}
		})
	}
}

func TestHFConfigStyles(t *testing.T) {
	// Each style's key names map to the same architecture fields.
	cases := []struct {
		name, cfg, family string
		layers            int
	}{
		{"bert", `{"hidden_size":256,"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":1024,"vocab_size":1000}`, "encoder", 4},
		{"gpt2", `{"n_embd":256,"n_layer":3,"n_head":4,"vocab_size":1000}`, "decoder", 3},
		{"opt", `{"model_type":"opt","hidden_size":256,"ffn_dim":1024,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":1000}`, "decoder", 2},
		{"t5", `{"model_type":"t5","d_model":256,"d_ff":1024,"d_kv":64,"num_layers":2,"num_heads":4,"vocab_size":1000}`, "encoder-decoder", 2},
		{"vit", `{"hidden_size":256,"num_hidden_layers":5,"num_attention_heads":4,"image_size":64,"patch_size":16}`, "vit", 5},
	}
	for _, tc := range cases {
		a, err := ArchitectureFromHFConfig([]byte(tc.cfg), "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Family != tc.family || a.Stacks[0].Layers != tc.layers || a.Params <= 0 {
			t.Errorf("%s: family %s layers %d params %.0f", tc.name, a.Family, a.Stacks[0].Layers, a.Params)
		}
	}
	if _, err := ArchitectureFromHFConfig([]byte(`{"foo": 1}`), ""); err == nil {
		t.Error("config without architecture keys accepted")
	}
	var js map[string]any
	if json.Unmarshal(MustBuiltinCatalog().Additions(), &js) == nil {
		t.Error("builtin catalog reports user additions")
	}
}
