package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/store"
)

// baselineFlushEvery is how often serve saves what the baselines learnt
// and reads what other detect workers saved; a crash loses at most this
// much learning (and the stop saves the rest).
const baselineFlushEvery = 30 * time.Second

// baselineDB is what the baselines need of the store (store/sqlite).
type baselineDB interface {
	LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (store.Baseline, error)
	SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) (int64, error)
}

// baselineStore hands the baselines' entries to and from the store, whose
// package may not know the enricher's types.
type baselineStore struct{ db baselineDB }

func (s baselineStore) LoadBaseline(ctx context.Context, ws, model string, after int64, limit int) (baseline.Snapshot, error) {
	b, err := s.db.LoadBaseline(ctx, ws, model, after, limit)
	out := baseline.Snapshot{Started: b.Started, Rev: b.Rev, Entries: make([]baseline.Entry, len(b.Entries))}
	for i, r := range b.Entries {
		out.Entries[i] = baseline.Entry{Entity: r.Entity, Value: r.Value, Count: r.Count, Max: r.Max, First: r.First, Last: r.Last}
	}
	return out, err
}

func (s baselineStore) SaveBaseline(ctx context.Context, ws, model string, started time.Time, entries []baseline.Entry, purge time.Time) (int64, error) {
	rows := make([]store.BaselineEntry, len(entries))
	for i, e := range entries {
		rows[i] = store.BaselineEntry{Entity: e.Entity, Value: e.Value, Count: e.Count, Max: e.Max, First: e.First, Last: e.Last}
	}
	return s.db.SaveBaseline(ctx, ws, model, started, rows, purge)
}

// baselineLearning is the learning period of workspace ws: its own in the
// config file's workspaces, else the baseline-learning setting.
func baselineLearning(cfg *Config, ws string) time.Duration {
	for _, w := range cfg.Workspaces {
		if w.Name == ws && w.BaselineLearning != 0 {
			return w.BaselineLearning
		}
	}
	return cfg.BaselineLearning
}

// learningOption turns a learning period as the settings and flags give
// it (0: none) into baseline.Config.Learning (0: the default; negative:
// none).
func learningOption(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// printBaselineStatus says on w what each model learnt in a scan.
func printBaselineStatus(w io.Writer, b *baseline.Enricher) {
	for _, s := range b.Status() {
		if s.Values == 0 {
			continue
		}
		state := "flagging"
		if s.Learning {
			state = "learning until " + s.LearningUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "baseline %s: %d entities, %d values, %s\n", s.Model, s.Entities, s.Values, state)
	}
}
