package runner

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Commander runs a scheduler's command (sbatch, squeue, kubectl…) and
// returns its standard output; on failure the error carries the start of
// its standard error. Tests of the scheduler executors count the calls.
type Commander interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecCommander runs the real commands.
type ExecCommander struct{}

func (ExecCommander) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		verb := ""
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			verb = " " + args[0]
		}
		return out, fmt.Errorf("%s%s: %w: %s", name, verb, err, msg)
	}
	return out, nil
}

// Poller paces a scheduler executor's polls and turns them into the
// changes Executor.Wait reports: the first poll at once, later ones after
// an interval that doubles while nothing changes (up to Max) and drops
// back to Min after a change; no two scheduler calls through Pace come
// less than Min apart, whatever the number of tasks.
type Poller struct {
	min, max time.Duration

	mu       sync.Mutex
	last     map[string]Update
	lastCall time.Time
	interval time.Duration
	polled   bool
}

// NewPoller makes a poller: polls at least lo (one second or more) and at
// most hi apart.
func NewPoller(lo, hi time.Duration) *Poller {
	lo = max(lo, time.Second)
	if hi < lo {
		hi = max(30*time.Second, lo)
	}
	return &Poller{min: lo, max: hi, interval: lo, last: map[string]Update{}}
}

// Pace waits until Min has passed since the last scheduler call.
func (p *Poller) Pace() {
	p.mu.Lock()
	wait := time.Until(p.lastCall.Add(p.min))
	p.mu.Unlock()
	if wait > 0 {
		time.Sleep(wait)
	}
	p.mu.Lock()
	p.lastCall = time.Now()
	p.mu.Unlock()
}

// Soon brings the next poll forward (after a cancel, news is expected).
func (p *Poller) Soon() {
	p.mu.Lock()
	p.interval = p.min
	p.mu.Unlock()
}

// Wait polls until one of refs changed and returns the changes; poll
// reports the current state of the tasks it knows.
func (p *Poller) Wait(ctx context.Context, refs []string, poll func(context.Context) (map[string]Update, error)) ([]Update, error) {
	for {
		p.mu.Lock()
		first := !p.polled
		p.polled = true
		interval := p.interval
		p.mu.Unlock()
		if !first {
			t := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		now, err := poll(ctx)
		if err != nil {
			return nil, err
		}
		var changed []Update
		p.mu.Lock()
		for _, r := range refs {
			u, ok := now[r]
			if !ok {
				continue
			}
			if prev, seen := p.last[r]; seen && prev == u {
				continue
			}
			p.last[r] = u
			changed = append(changed, u)
		}
		if len(changed) > 0 {
			p.interval = p.min
		} else {
			p.interval = min(p.interval*2, p.max)
		}
		p.mu.Unlock()
		if len(changed) > 0 {
			return changed, nil
		}
	}
}
