package placement

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tomlDoc := `
[placements.cuda.slurm]
partition = "gpu"
gres = "gpu:a100"
time = "00:30:00"

[placements.cuda.kubernetes]
namespace = "bench"
image = "registry.example/bench:1"
node_selector = { "nvidia.com/gpu.product" = "NVIDIA-A100-SXM4-80GB" }
resources = { "nvidia.com/gpu" = "1" }

[[placements.cuda.kubernetes.tolerations]]
key = "nvidia.com/gpu"
operator = "Exists"
effect = "NoSchedule"

[placements.cpu.slurm]
partition = "cpu"
`
	jsonDoc := `{"placements": {
  "cuda": {"slurm": {"partition": "gpu", "gres": "gpu:a100", "time": "00:30:00"},
           "kubernetes": {"namespace": "bench", "image": "registry.example/bench:1",
                          "node_selector": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
                          "resources": {"nvidia.com/gpu": "1"},
                          "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}},
  "cpu":  {"slurm": {"partition": "cpu"}}}}`
	a, err := Parse([]byte(tomlDoc), "p.toml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(jsonDoc), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JSON()) != string(b.JSON()) {
		t.Errorf("TOML and JSON differ:\n%s\n%s", a.JSON(), b.JSON())
	}
	if m := a.Missing("kubernetes", []string{"cpu", "cuda", "rocm", "cpu"}); strings.Join(m, ",") != "cpu,rocm" {
		t.Errorf("Missing = %v", m)
	}
	if err := a.CheckHardware(func(id string) bool { return id == "cuda" }, "p.toml"); err == nil || !strings.Contains(err.Error(), `"cpu"`) {
		t.Errorf("CheckHardware: %v", err)
	}
	// Round trip: what a session stores parses again.
	if c, err := Parse(a.JSON(), "stored.json"); err != nil || string(c.JSON()) != string(a.JSON()) {
		t.Errorf("stored placement: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"p.json", `{"placements": {"cpu": {"slurm": {"partition": "cpu", "partiton": "x"}}}}`, `p.json:1: unknown field "partiton"`},
		{"p.json", "{\"placements\": {\n\"cpu\": {\"slurm\": {\"partition\": 3}}}}", "p.json:2: field placements.slurm.partition: number is not a string"},
		{"p.json", "{\"placements\": {\n\"cpu\": {\"slurm\": {\"partition\": \"cpu\"}}}", "p.json:2:"},
		{"p.json", `{"placements": {}}`, "no placements"},
		{"p.json", `{"placements": {"cpu": {}}}`, "neither slurm nor kubernetes"},
		{"p.json", `{"placements": {"cpu": {"slurm": {"time": "1:00"}}}}`, "slurm.partition"},
		{"p.json", `{"placements": {"cpu": {"slurm": {"partition": "cpu --wrap=id"}}}}`, "blanks or control"},
		{"p.json", `{"placements": {"cpu": {"slurm": {"partition": "cpu", "time": "half an hour"}}}}`, "slurm.time"},
		{"p.json", `{"placements": {"cpu": {"slurm": {"partition": "cpu", "time": "1:2:3:4"}}}}`, "slurm.time"},
		{"p.json", `{"placements": {"cpu": {"slurm": {"partition": "cpu", "gres": "gpu:a100:one"}}}}`, "slurm.gres"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "Bench_NS", "image": "x"}}}}`, "namespace"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "b", "image": ""}}}}`, "image"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "b", "image": "x", "resources": {"nvidia.com/gpu": "one"}}}}}`, "quantity"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "b", "image": "x", "node_selector": {"a b": "c"}}}}}`, "label key"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "b", "image": "x", "tolerations": [{"operator": "Maybe"}]}}}}`, "operator"},
		{"p.json", `{"placements": {"cpu": {"kubernetes": {"namespace": "b", "image": "x", "perfpilot": "perfpilot"}}}}`, "absolute"},
		{"p.toml", "[placements.cpu.slurm]\npartition = \"cpu\"\nqueue = \"x\"\n", `p.toml:3: unknown field "placements.cpu.slurm.queue"`},
		{"p.toml", "[placements.cpu.slurm]\npartition = \n", "p.toml:2:"},
	} {
		_, err := Parse([]byte(c.doc), c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: error %v, want %q", c.name, c.doc, err, c.want)
		}
		if err != nil && len(err.Error()) > 600 {
			t.Errorf("error too long (%d): %v", len(err.Error()), err)
		}
	}
}
