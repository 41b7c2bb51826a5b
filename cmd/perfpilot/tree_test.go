package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// walkTree calls fn for every command of the real tree with its path
// (without "perfpilot"); a command added to newRootCmd is covered by itself.
func walkTree(fn func(c *cobra.Command, path []string)) {
	root, _ := newRootCmd(IO{})
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		fn(c, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
}

var numericTypes = map[string]bool{"int": true, "int8": true, "int16": true, "int32": true, "int64": true, "uint": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true, "float32": true, "float64": true, "duration": true}

// TestCommandTreeExitCodes walks the command tree: --help exits 0 for every
// command; an unknown subcommand, an extra argument and an unknown flag
// exit 2 at every level; and every numeric flag declares its range, whose
// default lies inside it, and refuses NaN, ±Inf, overflow, garbage and the
// values just outside it with exit 2 and one line naming the flag.
func TestCommandTreeExitCodes(t *testing.T) {
	db := newDB(t)
	commands, numeric := 0, 0
	walkTree(func(c *cobra.Command, path []string) {
		if c.Hidden {
			return
		}
		commands++
		name := "perfpilot " + strings.Join(path, " ")
		if _, errOut, code := cli(t, db, append(path, "--help")...); code != exitOK {
			t.Errorf("%s --help: exit %d %q", name, code, errOut)
		}
		bad := [][]string{append(append([]string{}, path...), "--no-such-flag")}
		if c.HasSubCommands() {
			bad = append(bad, append(append([]string{}, path...), "bogus"), path)
		} else if c.Args != nil && c.Args(c, []string{"a", "b", "c", "d"}) != nil {
			bad = append(bad, append(append([]string{}, path...), "a", "b", "c", "d"))
		}
		switch strings.Join(path, " ") {
		case "":
			bad = bad[:1] // the root without arguments opens the dashboard
			bad = append(bad, []string{"bogus"}, []string{"help", "bogus"}, []string{"help", "benchmarks", "bogus"})
		case "help":
			bad = [][]string{{"help", "--no-such-flag"}}
		}
		for _, args := range bad {
			_, errOut, code := cli(t, db, args...)
			assertSafeMessage(t, strings.Join(args, " "), errOut, code, exitUsage, true)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !numericTypes[f.Value.Type()] {
				return
			}
			numeric++
			flag := "--" + f.Name
			lo, hi, ok := flagRange(f)
			if !ok {
				t.Errorf("%s %s: a numeric flag without a declared range (withRange)", name, flag)
				return
			}
			dur := f.Value.Type() == "duration"
			def := f.DefValue
			if dur {
				d, _ := time.ParseDuration(def)
				def = fmt.Sprint(d.Seconds())
			}
			if v, err := strconv.ParseFloat(def, 64); err != nil || v < lo || v > hi {
				t.Errorf("%s %s: default %s outside its range %g..%g", name, flag, f.DefValue, lo, hi)
			}
			values := []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "1e309", "-1e309", "99999999999999999999999", "-99999999999999999999999",
				"abc", "", "1e", "--1", "0x", "1,5"}
			below, above := lo-1, hi+1
			if !strings.Contains(f.Value.Type(), "int") {
				below, above = lo-math.Max(1e-9, math.Abs(lo)*1e-6), hi+math.Max(1e-9, math.Abs(hi)*1e-6)
			}
			for _, v := range []float64{below, above} {
				if math.IsInf(v, 0) || math.Abs(v) > 1e19 {
					continue // the type's own bound
				}
				s := strconv.FormatFloat(v, 'f', -1, 64)
				if dur {
					s = strconv.FormatFloat(v, 'f', -1, 64) + "s"
				}
				values = append(values, s)
			}
			if dur {
				values = append(values, "-1s", "1000000h", "9999999999h")
			}
			for _, v := range values {
				args := append(append([]string{}, path...), flag+"="+v)
				_, errOut, code := cli(t, db, args...)
				assertSafeMessage(t, strings.Join(args, " "), errOut, code, exitUsage, true)
				if !strings.Contains(errOut, flag) {
					t.Errorf("%s: the message does not name %s: %q", strings.Join(args, " "), flag, errOut)
				}
			}
		})
	})
	if commands < 15 || numeric < 25 {
		t.Fatalf("walked %d commands and %d numeric flags: the tree is not what it should be", commands, numeric)
	}
}
