package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"perfpilot/runner"
)

func TestMatbenchPrintsParsableResult(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run([]string{"--model", "bert-base-uncased", "--hardware", "cpu", "--batch-size", "2", "--precision", "int8",
		"--sequence-length", "16", "--output-dir", dir}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	m, ok, err := runner.ParseOutput(strings.NewReader(out.String()))
	if err != nil || !ok || m.Throughput <= 0 || m.LatencyMS <= 0 || m.MemoryMB <= 0 {
		t.Fatalf("output %q parses as %+v, %v, %v", out.String(), m, ok, err)
	}
	if got := m.Throughput * m.LatencyMS / 1000; got < 1.99 || got > 2.01 {
		t.Errorf("throughput × latency = %v items, want the batch size 2", got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "matbench-*.json"))
	if len(files) != 1 {
		t.Errorf("output dir holds %v", files)
	} else if data, _ := os.ReadFile(files[0]); !strings.Contains(string(data), `"throughput"`) {
		t.Errorf("saved result %s", data)
	}
}

func TestMatbenchRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--model", "gpt2", "--hardware", "cuda"},
		{"--model", "unknown/model"},
		{"--model", "gpt2", "--precision", "fp8"},
		{"--model", "gpt2", "--batch-size", "0"},
		{"--model", "meta-llama/Llama-2-7b-hf", "--batch-size", "1024"},
		{"--nope"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q", args, code, out.String())
		}
	}
	var out, errOut bytes.Buffer
	run([]string{"--help"}, &out, &errOut)
	if !strings.Contains(errOut.String(), "NOT the named model") {
		t.Errorf("usage does not say what it measures:\n%s", errOut.String())
	}
}
