package analysis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const bruteForceRules = `title: failed logon
id: 11111111-0000-4000-8000-000000000001
name: failed_logon
logsource:
  product: windows
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: brute force
id: 11111111-0000-4000-8000-000000000002
level: high
tags: [attack.credential-access, attack.t1110]
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    gte: 3
`

func correlatedRules(t testing.TB, text string, cfg detect.CorrelatorConfig) *Rules {
	t.Helper()
	set, errs := rule.ParseSet("bf.yml", []byte(text))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := CompileSet(set, detect.Options{}, cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs
}

func failures(user string, n int) []string {
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, fmt.Sprintf(`{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":%q,"TimeCreated":"2026-01-02T03:0%d:00Z"}`, user, i))
	}
	return lines
}

func TestProcessorFeedsCorrelationAndSuppressesBaseRule(t *testing.T) {
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	res := NewProcessor(rs).Process(batchOf("windows", failures("bob", 3)...), tenant.Source{})
	if len(res.Batch.Signals) != 0 {
		t.Fatalf("the referenced rule raised %d signals of its own without generate", len(res.Batch.Signals))
	}
	if len(res.Matches) != 3 || res.Matches[0].Values[0] != "bob" {
		t.Fatalf("matches %+v", res.Matches)
	}
	k := rs.NewCorrelator()
	var hits []detect.CorrelationHit
	for _, m := range res.Matches {
		hits = k.Observe(m, hits)
	}
	sigs := rs.CorrelationSignals(hits, nil)
	if len(sigs) != 3 || sigs[0].Type != "correlation" || sigs[0].Severity.String() != "high" ||
		sigs[0].Entities[0].Type != "account" || sigs[0].Entities[0].Value != "bob" || sigs[0].Techniques[0] != "T1110" {
		t.Fatalf("signals %+v", sigs)
	}
}

// TestCorrelationFieldsNeedNoHiddenRule: the brute-force correlation
// groups by TargetUserName, which its rule does not read; the engine
// decodes the field for it (detect.Options.ExtraFields) and holds only the
// rule set's own rule.
func TestCorrelationFieldsNeedNoHiddenRule(t *testing.T) {
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	if n := rs.Engine.Len(); n != 1 {
		var ids []string
		for _, r := range rs.Engine.Rules() {
			ids = append(ids, r.ID)
		}
		t.Fatalf("the engine holds %d rules %v; the set has one", n, ids)
	}
	if _, ok := rs.Engine.Dict().ID("TargetUserName"); !ok {
		t.Fatal("TargetUserName, the correlation's group-by field, is not decoded")
	}
	res := NewProcessor(rs).Process(batchOf("windows", failures("alice", 1)...), tenant.Source{})
	if len(res.Matches) != 1 || len(res.Matches[0].Values) != 1 || res.Matches[0].Values[0] != "alice" {
		t.Fatalf("matches %+v, want one carrying TargetUserName alice", res.Matches)
	}
}

// countingStore keeps batches once by id, like the real store.
type countingStore struct {
	mu      sync.Mutex
	batches map[event.ID]*store.Batch
	commits map[event.ID]int
}

func (c *countingStore) Commit(_ context.Context, bs []*store.Batch) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range bs {
		c.commits[b.ID]++
		if c.batches[b.ID] == nil {
			c.batches[b.ID] = b
			n++
		}
	}
	return n, nil
}

func (c *countingStore) correlationSignals() (batches, signals int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.batches {
		if b.Source == CorrelationSource {
			batches++
			signals += len(b.Signals)
		}
	}
	return
}

// replayFetcher hands out the real bus's deliveries and, once the first
// one is committed, the same batch again as a redelivery — what the bus
// does when an acknowledgement is lost.
type replayFetcher struct {
	mu    sync.Mutex
	b     *bus.Bus
	st    *countingStore
	first *bus.Delivery
	done  bool
}

func (f *replayFetcher) Fetch(ctx context.Context, max int, wait time.Duration) ([]*bus.Delivery, error) {
	ds, err := f.b.Fetch(ctx, max, 50*time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == nil && len(ds) > 0 {
		f.first = ds[0]
	}
	if len(ds) == 0 && f.first != nil && !f.done {
		f.st.mu.Lock()
		committed := f.st.batches[f.first.Batch.ID] != nil
		f.st.mu.Unlock()
		if committed {
			f.done = true
			again := *f.first
			again.Delivered = 2
			return []*bus.Delivery{&again}, nil
		}
	}
	return ds, err
}

// busOfFailures opens a bus holding one batch of n failed Windows logons of
// user.
func busOfFailures(t *testing.T, user string, n int) *bus.Bus {
	t.Helper()
	b := openBus(t)
	if err := b.Publish(context.Background(), batchOf("windows", failures(user, n)...)); err != nil {
		t.Fatal(err)
	}
	return b
}

func newCountingStore() *countingStore {
	return &countingStore{batches: map[event.ID]*store.Batch{}, commits: map[event.ID]int{}}
}

func TestStageCorrelationStoredOnceAcrossReplay(t *testing.T) {
	b := busOfFailures(t, "bob", 3)
	st := newCountingStore()
	// A generous lateness: the replayed events would count again if the
	// stage fed them to the correlator.
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{Lateness: time.Hour})
	f := &replayFetcher{b: b, st: st}
	stop := startStage(t, NewStage(StageConfig{Bus: f, Store: st, Rules: func() *Rules { return rs }, Workers: 2}))
	replayed := waitUntil(20*time.Second, 10*time.Millisecond, func() bool {
		f.mu.Lock()
		first := f.first
		f.mu.Unlock()
		st.mu.Lock()
		defer st.mu.Unlock()
		return first != nil && st.commits[first.Batch.ID] >= 2
	})
	if !replayed {
		t.Fatal("the replayed batch was never committed again")
	}
	stop()
	batches, signals := st.correlationSignals()
	if batches != 1 || signals != 3 {
		t.Fatalf("correlation batches %d with %d signals; want 1 batch with one signal per failure (3)", batches, signals)
	}
}

type tiers map[string]string

func (t tiers) Workspace(_ context.Context, name string) (tenant.Workspace, error) {
	return tenant.Workspace{Name: name, Tier: t[name]}, nil
}

// TestStageCorrelationNeedsStandardTier: a free workspace gets signature
// alerts but no stateful (correlation) ones; a standard one gets both.
func TestStageCorrelationNeedsStandardTier(t *testing.T) {
	for _, tc := range []struct {
		tier string
		want int
	}{{tenant.TierFree, 0}, {tenant.TierStandard, 1}} {
		t.Run(tc.tier, func(t *testing.T) {
			b := busOfFailures(t, "bob", 3)
			st := newCountingStore()
			rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{Lateness: time.Hour})
			stop := startStage(t, NewStage(StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs },
				Workspaces: tiers{"w": tc.tier}}))
			committed := waitUntil(20*time.Second, 10*time.Millisecond, func() bool {
				st.mu.Lock()
				defer st.mu.Unlock()
				return len(st.batches) > 0
			})
			if !committed {
				t.Fatal("nothing committed")
			}
			time.Sleep(200 * time.Millisecond) // correlation batches follow the event batch
			stop()
			batches, _ := st.correlationSignals()
			if batches != tc.want {
				t.Fatalf("tier %s: %d correlation batches, want %d", tc.tier, batches, tc.want)
			}
		})
	}
}

// tierTable is a workspace lookup whose tiers change while a stage runs.
type tierTable struct {
	mu    sync.Mutex
	tiers map[string]string
}

func (t *tierTable) Workspace(_ context.Context, name string) (tenant.Workspace, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tenant.Workspace{Name: name, Tier: t.tiers[name]}, nil
}

func (t *tierTable) set(name, tier string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tiers[name] = tier
}

// TestStageAppliesTierChange: a running stage picks up a workspace moved
// from free to standard, at once when told (ForgetTier, what the API's
// change does in the same process) and when its cached tier expires
// otherwise (a change by the CLI, another process).
func TestStageAppliesTierChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ttl    time.Duration
		forget bool
	}{{"told", time.Hour, true}, {"expired", 50 * time.Millisecond, false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := busOfFailures(t, "bob", 3)
			st := newCountingStore()
			rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{Lateness: time.Hour})
			tt := &tierTable{tiers: map[string]string{"w": tenant.TierFree}}
			stage := NewStage(StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs }, Workspaces: tt, LookupTTL: tc.ttl})
			stop := startStage(t, stage)
			defer stop()
			if !waitUntil(20*time.Second, 10*time.Millisecond, func() bool {
				st.mu.Lock()
				defer st.mu.Unlock()
				return len(st.batches) > 0
			}) {
				t.Fatal("nothing committed")
			}
			time.Sleep(200 * time.Millisecond)
			if n, _ := st.correlationSignals(); n != 0 {
				t.Fatalf("free workspace: %d correlation batches", n)
			}
			tt.set("w", tenant.TierStandard)
			if tc.forget {
				stage.ForgetTier("w")
			} else {
				time.Sleep(2 * tc.ttl)
			}
			if err := b.Publish(context.Background(), batchOf("windows", failures("bob", 3)...)); err != nil {
				t.Fatal(err)
			}
			if !waitUntil(20*time.Second, 10*time.Millisecond, func() bool { n, _ := st.correlationSignals(); return n == 1 }) {
				n, _ := st.correlationSignals()
				t.Fatalf("after the change to standard: %d correlation batches, want 1", n)
			}
		})
	}
}
