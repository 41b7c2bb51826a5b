package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
)

// progress draws a one-line bar on a terminal once work has taken more than
// a moment; on a pipe it stays silent.
type progress struct {
	w     io.Writer
	label string
	start time.Time
	tty   bool
	drawn bool
}

func newProgress(label string) *progress {
	return &progress{w: os.Stderr, label: label, start: time.Now(), tty: term.IsTerminal(os.Stderr.Fd())}
}

func (p *progress) update(done, total int) {
	if !p.tty || total <= 0 || time.Since(p.start) < 300*time.Millisecond && done < total {
		return
	}
	const width = 30
	n := done * width / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d  %s", p.label, strings.Repeat("█", n), strings.Repeat("░", width-n), done, total,
		time.Since(p.start).Round(100*time.Millisecond))
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
