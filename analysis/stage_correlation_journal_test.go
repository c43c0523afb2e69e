package analysis

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// stateStore is what the stage's tests against a real store need of it:
// commits, alerts, the correlator's saved state and journal, and the
// partitions' leases and states. It is the suite's store (SQLite, or
// PostgreSQL with VIGIL_TEST_STORE=postgres: internal/teststore).
type stateStore interface {
	store.Store
	CorrelationStates
	PartitionStates
}

// carolFailure is one of carol's failed logons at minute m past 03:00.
func carolFailure(m int) string { return failure("carol", m) }

func failure(user string, m int) string {
	return fmt.Sprintf(`{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":%q,"TimeCreated":"2026-01-02T03:0%d:00Z"}`, user, m)
}

// journalRun is one life of a detect stage over a real store: it
// processes, journals, commits and correlates groups as Stage.commit does,
// and dies without saving its correlator state when the test drops it.
type journalRun struct {
	t  *testing.T
	db stateStore
	rs *Rules
	s  *Stage
}

func newJournalRun(t *testing.T, db stateStore) *journalRun {
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	return &journalRun{t: t, db: db, rs: rs,
		s: NewStage(StageConfig{Store: db, CorrelationStates: db, Rules: func() *Rules { return rs }})}
}

// group commits one group of the given batches and returns the
// correlation batches to commit (not committed yet).
func (r *journalRun) group(batches ...[]string) []*store.Batch {
	r.t.Helper()
	ctx := context.Background()
	var group []processed
	var bs []*store.Batch
	for _, lines := range batches {
		res := NewProcessor(r.rs).Process(batchOf("windows", lines...), tenant.Source{})
		group = append(group, processed{res: res, rules: r.rs})
		bs = append(bs, res.Batch)
	}
	r.s.journalMatches(group)
	n, err := r.db.Commit(ctx, bs)
	if err != nil || n != len(bs) {
		r.t.Fatalf("commit: %d new, %v", n, err)
	}
	isNew := make([]bool, len(group))
	for i := range isNew {
		isNew[i] = true
	}
	return r.s.correlateCommitted(group, isNew)
}

func (r *journalRun) commit(out []*store.Batch) int {
	r.t.Helper()
	n, err := r.db.Commit(context.Background(), out)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// correlationAlerts returns the counts of the workspace's correlation
// alerts.
func correlationAlerts(t *testing.T, db stateStore) []int {
	t.Helper()
	als, _, err := db.Alerts(context.Background(), "w", store.AlertQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, a := range als {
		if a.Type == "correlation" {
			counts = append(counts, a.Count)
		}
	}
	return counts
}

// TestCorrelationJournalAcrossKill: a detect stage killed after committing
// batches whose matches it had not saved in its correlator state — before
// or after committing the correlation alert they set off — neither loses
// nor doubles them after its restart: the threshold of three failures,
// crossed by the batch committed last before the kill, fires once.
func TestCorrelationJournalAcrossKill(t *testing.T) {
	for _, alertCommitted := range []bool{false, true} {
		t.Run(fmt.Sprintf("alert committed before the kill %v", alertCommitted), func(t *testing.T) {
			db := teststore.Open[stateStore](t)

			first := newJournalRun(t, db)
			// The first group is saved at once (no save yet); the
			// second is only journalled, as within the save interval.
			if out := first.group([]string{carolFailure(0), carolFailure(1)}); len(out) != 0 {
				t.Fatalf("two failures set off %d correlation batches", len(out))
			}
			out := first.group([]string{carolFailure(2)})
			if len(out) != 1 {
				t.Fatalf("the third failure set off %d correlation batches, want 1", len(out))
			}
			if alertCommitted {
				if n := first.commit(out); n != 1 {
					t.Fatalf("correlation batch: %d new", n)
				}
			}
			j, err := db.CorrelationJournal(context.Background(), 0)
			if err != nil || len(j) != 1 {
				t.Fatalf("journal after the first run: %d entries, %v; want the unsaved batch's", len(j), err)
			}
			// Killed: first is dropped without saving.

			// After the restart, only bob fails: carol's alert can come
			// from the journal alone.
			second := newJournalRun(t, db)
			out = second.group([]string{failure("bob", 3)})
			want := 0
			if !alertCommitted {
				want = 1
			}
			if n := second.commit(out); n != want {
				t.Fatalf("after the restart, %d new correlation batches, want %d", n, want)
			}
			if got := correlationAlerts(t, db); len(got) != 1 || got[0] != 3 {
				t.Fatalf("correlation alerts' counts %v, want one alert of 3 events", got)
			}
			// The hit emptied carol's window, and the state saved now
			// says so: two more failures do not reach three, a third does.
			second.s.saveCorrelations()
			if j, _ := db.CorrelationJournal(context.Background(), 0); len(j) != 0 {
				t.Fatalf("%d journal entries left after a save", len(j))
			}
			third := newJournalRun(t, db)
			if out := third.group([]string{carolFailure(4)}, []string{carolFailure(5)}); len(out) != 0 {
				t.Fatalf("two failures in a new window fired: %d batches", len(out))
			}
			if out := third.group([]string{carolFailure(6)}); len(out) != 1 {
				t.Fatalf("the third failure of the new window set off %d batches, want 1", len(out))
			}
		})
	}
}
