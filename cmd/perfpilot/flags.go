package main

import (
	"math"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every numeric flag declares its valid range where it is defined
// (withRange); checkRanges runs before any command (the root's
// PersistentPreRunE) and refuses NaN, ±Inf and anything outside the range
// with a usage error naming the flag, so no command sees such a value. The
// command-tree test (tree_test.go) fails on a numeric flag without a range.

const rangeAnnotation = "perfpilot_range"

// Upper bounds shared by several commands' flags: generous for any real
// use, small enough that nothing they size overflows or runs for days.
const (
	maxBudget   = 1_000_000 // configurations to rank, or per hardware
	maxBatch    = 1 << 20
	maxWeight   = 1e6
	maxPowerW   = 1e6
	maxMemoryGB = 1e6
)

// withRange declares the inclusive range of numeric flag name in f; a
// duration's range is in seconds.
func withRange(f *pflag.FlagSet, name string, lo, hi float64) {
	if err := f.SetAnnotation(name, rangeAnnotation, []string{strconv.FormatFloat(lo, 'g', -1, 64), strconv.FormatFloat(hi, 'g', -1, 64)}); err != nil {
		panic(err) // a typo in a flag name: caught by every test run
	}
}

// flagRange returns a flag's declared range.
func flagRange(f *pflag.Flag) (lo, hi float64, ok bool) {
	r, ok := f.Annotations[rangeAnnotation]
	if !ok || len(r) != 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseFloat(r[0], 64)
	hi, err2 := strconv.ParseFloat(r[1], 64)
	return lo, hi, err1 == nil && err2 == nil
}

// checkRanges refuses a flag set on the command line whose value is
// outside its declared range.
func checkRanges(cmd *cobra.Command, _ []string) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		lo, hi, ok := flagRange(f)
		if !ok || err != nil {
			return
		}
		s := f.Value.String()
		var v float64
		if f.Value.Type() == "duration" {
			d, perr := time.ParseDuration(s)
			v = d.Seconds()
			if perr != nil {
				v = math.NaN()
			}
		} else if v, err = strconv.ParseFloat(s, 64); err != nil {
			v, err = math.NaN(), nil
		}
		if !(v >= lo && v <= hi) { // NaN fails both
			unit := ""
			if f.Value.Type() == "duration" {
				unit = "s"
			}
			err = usagef("--%s: %s is outside %s%s..%s%s", f.Name, s, fnum(lo), unit, fnum(hi), unit)
		}
	})
	return err
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
