package pareto

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/tui/common"
)

const sideW = 40 // the cursor point's description

// Model is the view.
type Model struct {
	ctx    *common.Context
	title  string
	pts    []Point
	cur    int
	width  int
	height int
}

// New makes the view.
func New(ctx *common.Context) *Model { return &Model{ctx: ctx} }

// SetPoints shows points (the front is marked here). title says what they
// are ("gpt2" or "4 selected rows").
func (m *Model) SetPoints(title string, pts []Point) {
	MarkFront(pts)
	m.title, m.pts = title, pts
	m.cur = 0
	for i, p := range pts {
		if p.Front {
			m.cur = i // start on the fastest point of the front
		}
	}
}

// Points are the points on screen, sorted by memory.
func (m *Model) Points() []Point { return m.pts }

// Cursor is the index of the point under the cursor.
func (m *Model) Cursor() int { return m.cur }

func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// Update moves the cursor: ←/→ to the previous or next point by memory,
// ↑/↓ along the front.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok || len(m.pts) == 0 {
		return nil
	}
	k := m.ctx.Keys
	switch {
	case key.Matches(kp, k.Left):
		m.cur = max(m.cur-1, 0)
	case key.Matches(kp, k.Right):
		m.cur = min(m.cur+1, len(m.pts)-1)
	case key.Matches(kp, k.Table.Up):
		m.cur = m.nextFront(1)
	case key.Matches(kp, k.Table.Down):
		m.cur = m.nextFront(-1)
	}
	return nil
}

// nextFront is the next front point in direction d (by memory).
func (m *Model) nextFront(d int) int {
	for i := m.cur + d; i >= 0 && i < len(m.pts); i += d {
		if m.pts[i].Front {
			return i
		}
	}
	return m.cur
}

// plot maps the points to a w×h cell grid on log scales.
type plot struct {
	w, h           int
	x0, x1, y0, y1 float64
	dots           [][]rune
}

func newPlot(pts []Point, w, h int) *plot {
	p := &plot{w: w, h: h, x0: math.Inf(1), x1: math.Inf(-1), y0: math.Inf(1), y1: math.Inf(-1)}
	for _, pt := range pts {
		p.x0, p.x1 = math.Min(p.x0, math.Log10(pt.X)), math.Max(p.x1, math.Log10(pt.X))
		p.y0, p.y1 = math.Min(p.y0, math.Log10(pt.Y)), math.Max(p.y1, math.Log10(pt.Y))
	}
	if p.x1-p.x0 < 1e-9 {
		p.x0, p.x1 = p.x0-0.5, p.x1+0.5
	}
	if p.y1-p.y0 < 1e-9 {
		p.y0, p.y1 = p.y0-0.5, p.y1+0.5
	}
	p.dots = make([][]rune, h)
	for i := range p.dots {
		p.dots[i] = []rune(strings.Repeat(string(rune(0x2800)), w))
	}
	return p
}

// dot is a point's position in braille dots (2 across, 4 down per cell).
func (p *plot) dot(pt Point) (x, y int) {
	fx := (math.Log10(pt.X) - p.x0) / (p.x1 - p.x0)
	fy := (math.Log10(pt.Y) - p.y0) / (p.y1 - p.y0)
	return int(math.Round(fx * float64(2*p.w-1))), int(math.Round((1 - fy) * float64(4*p.h-1)))
}

var brailleBits = [4][2]rune{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}

func (p *plot) set(x, y int) {
	p.dots[y/4][x/2] |= brailleBits[y%4][x%2]
}

// View draws the scatter with its axes and the cursor point's detail.
func (m *Model) View() string {
	th := m.ctx.Theme
	if len(m.pts) == 0 {
		return " " + th.Muted.Render("No feasible configuration to plot — move to a row in view 1 (or select rows) and come back.")
	}
	head := " " + th.Bold.Render(common.Safe(m.title)) + th.Muted.Render(" · throughput ↑ vs peak memory ← (log) · ● Pareto front · ◆ cursor · ←/→ points, ↑/↓ front")
	side := min(sideW, m.width/3)
	pw, ph := max(m.width-side-10, 10), max(m.height-3, 4)
	p := newPlot(m.pts, pw, ph)
	glyph := map[[2]int]string{}
	for i, pt := range m.pts {
		x, y := p.dot(pt)
		p.set(x, y)
		cell := [2]int{y / 4, x / 2}
		switch {
		case i == m.cur:
			glyph[cell] = th.CursorRow.Render("◆")
		case pt.Front && glyph[cell] == "":
			glyph[cell] = th.Good.Render("●")
		}
	}
	lines := []string{ansi.Truncate(head, m.width, "…")}
	desc := m.describe(th)
	for r := range ph {
		label := "      "
		switch r {
		case 0:
			label = common.Fit(common.FmtVal(math.Pow(10, p.y1)), 6, true)
		case ph - 1:
			label = common.Fit(common.FmtVal(math.Pow(10, p.y0)), 6, true)
		}
		var row strings.Builder
		for c, ch := range p.dots[r] {
			if g, ok := glyph[[2]int{r, c}]; ok {
				row.WriteString(g)
			} else {
				row.WriteString(th.Muted.Render(string(ch)))
			}
		}
		line := th.Muted.Render(label+" ┤") + row.String()
		if r < len(desc) {
			line += "  " + desc[r]
		}
		lines = append(lines, ansi.Truncate(line, m.width, ""))
	}
	axis := strings.Repeat(" ", 7) + "└" + strings.Repeat("─", pw)
	lo, hi := common.FmtVal(math.Pow(10, p.x0))+" MB", common.FmtVal(math.Pow(10, p.x1))+" MB"
	lines = append(lines, th.Muted.Render(axis), th.Muted.Render(strings.Repeat(" ", 8)+lo+strings.Repeat(" ", max(pw-len(lo)-len(hi), 1))+hi))
	return strings.Join(lines, "\n")
}

// describe is the cursor point's detail and the front, for the side.
func (m *Model) describe(th *common.Theme) []string {
	pt := m.pts[m.cur]
	c := pt.Config
	on := th.Muted.Render("dominated: another point is faster with no more memory")
	if pt.Front {
		on = th.Good.Render("on the Pareto front")
	}
	out := []string{
		th.Bold.Render(common.Safe(fmt.Sprintf("%s on %s", c.Model, c.Hardware))),
		common.Safe(fmt.Sprintf("batch %d · %s", c.BatchSize, c.Precision)),
		fmt.Sprintf("throughput %s/s", common.FmtVal(pt.Y)) + th.Muted.Render(" ("+common.FmtInterval(pt.YLow, pt.YHigh)+")"),
		fmt.Sprintf("memory %s MB", common.FmtVal(pt.X)),
		on,
	}
	if pt.Measured {
		out = append(out, th.Good.Render("measured"))
	}
	if len(pt.Flags) > 0 {
		why := common.Wrap(common.AnomalyMark+" "+common.AnomalyText(pt.Flags, ""), max(min(sideW, m.width/3)-2, 10))
		for l := range strings.SplitSeq(why, "\n") {
			out = append(out, th.Warn.Render(l))
		}
	}
	n := 0
	for _, p := range m.pts {
		if p.Front {
			n++
		}
	}
	return append(out, "", th.Muted.Render(fmt.Sprintf("%d points · %d on the front", len(m.pts), n)))
}

func (m *Model) ShortHelp() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.Left, k.Right, k.Table.Up, k.Table.Down}
}

func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
