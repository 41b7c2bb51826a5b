package tui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
)

// fakeStore is an in-memory Store: results and sessions in maps, with
// the same errors the real store returns. The real store has its own
// tests; TestRealSQLiteEndToEnd runs the dashboard through it.
type fakeStore struct {
	mu       sync.Mutex
	now      func() time.Time
	results  []store.StoredResult
	sessions map[string]store.Session
}

func newFakeStore(cat *engine.Catalog, now func() time.Time) *fakeStore {
	f := &fakeStore{now: now, sessions: map[string]store.Session{}}
	for i, r := range demoHistory(cat) {
		f.results = append(f.results, store.StoredResult{ID: int64(i + 1), Result: r, ImportedAt: now()})
	}
	return f
}

// demoHistory is engine.DemoHistory, simulated once per catalog (results
// are values: every store gets its own copy).
func demoHistory(cat *engine.Catalog) []engine.Result {
	demoMu.Lock()
	defer demoMu.Unlock()
	rs, ok := demo[cat]
	if !ok {
		rs = engine.DemoHistory(cat)
		demo[cat] = rs
	}
	return slices.Clone(rs)
}

var (
	demoMu sync.Mutex
	demo   = map[*engine.Catalog][]engine.Result{}
)

func (f *fakeStore) Results(_ context.Context, filter store.ResultFilter) ([]store.StoredResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.StoredResult
	for _, r := range f.results {
		if (filter.Source == "" || r.Source == filter.Source) && (filter.WithExcluded || !r.Excluded) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeStore) SetExcluded(_ context.Context, ids []int64, excluded bool) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range ids {
		i := slices.IndexFunc(f.results, func(r store.StoredResult) bool { return r.ID == id })
		if i < 0 {
			return 0, fmt.Errorf("no result with id %d", id)
		}
		if f.results[i].Excluded != excluded {
			n++
		}
	}
	for _, id := range ids {
		i := slices.IndexFunc(f.results, func(r store.StoredResult) bool { return r.ID == id })
		f.results[i].Excluded = excluded
	}
	return n, nil
}

func (f *fakeStore) InsertResults(_ context.Context, rs []engine.Result) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		if err := store.ValidateResult(r); err != nil {
			return 0, 0, err
		}
	}
	for _, r := range rs {
		f.results = append(f.results, store.StoredResult{ID: int64(len(f.results) + 1), Result: r, ImportedAt: f.now()})
	}
	return len(rs), 0, nil
}

func (f *fakeStore) Sessions(context.Context) ([]store.SessionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.SessionInfo
	for _, s := range f.sessions {
		out = append(out, store.SessionInfo{Name: s.Name, Metric: s.Params.Metric, Budget: s.Params.Budget,
			Rows: rankedRows(s.Report), Selected: len(s.Selected), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
	}
	slices.SortFunc(out, func(a, b store.SessionInfo) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, nil
}

// rankedRows counts a session's ranked rows, as store.Sessions does.
func rankedRows(rep *engine.Report) int {
	n := 0
	for _, r := range rep.Recommendations {
		if r.Rank > 0 {
			n++
		}
	}
	return n
}

func (f *fakeStore) Session(_ context.Context, name string) (*store.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[name]
	if !ok {
		return nil, fmt.Errorf("session %q not found: %w", name, store.ErrSessionNotFound)
	}
	return &s, nil
}

func (f *fakeStore) SaveSession(_ context.Context, s store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[s.Name]; ok {
		return fmt.Errorf("session %q already exists: %w", s.Name, store.ErrSessionExists)
	}
	s.CreatedAt, s.UpdatedAt = f.now(), f.now()
	f.sessions[s.Name] = s
	return nil
}

func (f *fakeStore) ReplaceSession(_ context.Context, s store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.CreatedAt, s.UpdatedAt = f.now(), f.now()
	f.sessions[s.Name] = s
	return nil
}

func (f *fakeStore) RenameSession(_ context.Context, from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[from]
	if !ok {
		return store.ErrSessionNotFound
	}
	delete(f.sessions, from)
	s.Name = to
	f.sessions[to] = s
	return nil
}

func (f *fakeStore) DeleteSession(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, name)
	return nil
}

func (f *fakeStore) UpdateSelection(_ context.Context, name string, sel []int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[name]
	if !ok {
		return store.ErrSessionNotFound
	}
	s.Selected, s.UpdatedAt = sel, f.now()
	f.sessions[name] = s
	return nil
}

// cachedRanker is the real engine pipeline, memoized: the same results
// give the same fit, and the same fit and options the same report, so
// tests share the ~100 ms fit instead of each paying it.
type cachedRanker struct {
	mu    sync.Mutex
	fits  map[string]*engine.Predictor
	ranks map[string]*engine.Report
}

var sharedRanker = &cachedRanker{fits: map[string]*engine.Predictor{}, ranks: map[string]*engine.Report{}}

func (c *cachedRanker) Plan(ctx context.Context, cat *engine.Catalog, rs []engine.Result, params engine.RankParams, now time.Time) (*engine.Report, *engine.Predictor, error) {
	key := fmt.Sprintf("%p|%d|%d", cat, params.Seed, len(rs))
	for _, r := range rs {
		key += "|" + r.Config.Key() + r.Source + fmt.Sprint(r.LatencyMS, r.Throughput, r.MemoryMB)
	}
	c.mu.Lock()
	p, ok := c.fits[key]
	c.mu.Unlock()
	if !ok {
		rep, fit, err := EngineRanker{}.Plan(ctx, cat, rs, params, now)
		if err != nil {
			return rep, fit, err
		}
		p = fit
		c.mu.Lock()
		c.fits[key] = p
		c.ranks[fmt.Sprintf("%p|%+v|%v", p, params, now)] = rep
		c.mu.Unlock()
	}
	rep, err := c.Rank(ctx, p, params, now)
	return rep, p, err
}

func (c *cachedRanker) Rank(ctx context.Context, p *engine.Predictor, params engine.RankParams, now time.Time) (*engine.Report, error) {
	key := fmt.Sprintf("%p|%+v|%v", p, params, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if rep, ok := c.ranks[key]; ok {
		cp := *rep // callers own their report pointer (sessions compare them)
		return &cp, nil
	}
	rep, err := EngineRanker{}.Rank(ctx, p, params, now)
	if err == nil {
		c.ranks[key] = rep
		cp := *rep
		return &cp, nil
	}
	return rep, err
}
