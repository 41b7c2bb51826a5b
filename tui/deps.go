package tui

import (
	"context"
	"time"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
)

// Store is what the dashboard asks of the database (the ten calls it
// makes); *store.DB satisfies it. Tests use an in-memory fake (tui/fake_test.go) and one end-to-end
// test goes through real SQLite.
type Store interface {
	Results(ctx context.Context, filter store.ResultFilter) ([]store.StoredResult, error)
	InsertResults(ctx context.Context, rs []engine.Result) (added, duplicates int, err error)
	Sessions(ctx context.Context) ([]store.SessionInfo, error)
	Session(ctx context.Context, name string) (*store.Session, error)
	SaveSession(ctx context.Context, s store.Session) error
	ReplaceSession(ctx context.Context, s store.Session) error
	RenameSession(ctx context.Context, from, to string) error
	DeleteSession(ctx context.Context, name string) error
	UpdateSelection(ctx context.Context, name string, selected []int) error
	SetExcluded(ctx context.Context, ids []int64, excluded bool) (int, error)
}

// Runner runs a saved session's selected rows (x). StoreRunner is the real
// one.
type Runner interface {
	Plan(ctx context.Context, o runner.Options) (*runner.Plan, error)
	Execute(ctx context.Context, o runner.Options, p *runner.Plan, progress func(runner.Event)) (*runner.Summary, error)
}

// StoreRunner runs benchmarks against a real database.
func StoreRunner(db *store.DB) Runner { return dbRunner{db} }

type dbRunner struct{ db *store.DB }

func (r dbRunner) Plan(ctx context.Context, o runner.Options) (*runner.Plan, error) {
	o.DB = r.db
	return runner.NewPlan(ctx, o)
}

func (r dbRunner) Execute(ctx context.Context, o runner.Options, p *runner.Plan, progress func(runner.Event)) (*runner.Summary, error) {
	o.DB = r.db
	return runner.Execute(ctx, o, p, progress)
}

// Ranker is the engine's ranking pipeline (engine.Plan fits and ranks,
// engine.Rank re-ranks with the fitted predictor). EngineRanker is the
// real one; tests wrap it to reuse fits across tests.
type Ranker interface {
	Plan(ctx context.Context, cat *engine.Catalog, results []engine.Result, p engine.RankParams, now time.Time) (*engine.Report, *engine.Predictor, error)
	Rank(ctx context.Context, pred *engine.Predictor, p engine.RankParams, now time.Time) (*engine.Report, error)
}

// EngineRanker ranks with the engine.
type EngineRanker struct{}

func (EngineRanker) Plan(ctx context.Context, cat *engine.Catalog, results []engine.Result, p engine.RankParams, now time.Time) (*engine.Report, *engine.Predictor, error) {
	return engine.Plan(ctx, cat, results, p, now)
}

func (EngineRanker) Rank(ctx context.Context, pred *engine.Predictor, p engine.RankParams, now time.Time) (*engine.Report, error) {
	return engine.Rank(ctx, pred, p, now)
}
