package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// fakeStore is an in-memory store.Store that keeps the workspace rules of
// the real ones: every read and write names a workspace and sees only it.
type fakeStore struct {
	mu         sync.Mutex
	workspaces map[string]tenant.Workspace
	keys       []tenant.APIKey
	sources    []tenant.Source
	events     []store.StoredEvent
	alerts     []alert.Alert
	audit      []store.AuditEntry
	quarantine []store.QuarantineEntry
	batches    map[event.ID]bool
	nextAlert  int
	sups       []suppress.Suppression
	nextSup    int
	decs       fakeDecisions                   // fakedecisions_test.go
	incidents  *fakeIncidents                  // fakeincidents_test.go; made on first use
	offRules   map[string][]store.DisabledRule // fakerules_test.go, by workspace

	keyLookups int      // KeyByHash calls
	touches    []string // TouchKey calls, by key id
	failKeys   error    // when set, KeyByHash fails with it
	failAlerts error    // when set, Alerts fails with it
}

var _ store.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{workspaces: map[string]tenant.Workspace{}, batches: map[event.ID]bool{}}
}

func (s *fakeStore) CreateWorkspace(_ context.Context, name, tier string) (tenant.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workspaces[name]; ok {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, store.ErrConflict)
	}
	w := tenant.Workspace{Name: name, Tier: tier, Created: time.Unix(0, 0).UTC()}
	s.workspaces[name] = w
	return w, nil
}

func (s *fakeStore) Workspace(_ context.Context, name string) (tenant.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.workspaces[name]
	if !ok {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, store.ErrNotFound)
	}
	return w, nil
}

func (s *fakeStore) Workspaces(context.Context) ([]tenant.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ws []tenant.Workspace
	for _, w := range s.workspaces {
		ws = append(ws, w)
	}
	return ws, nil
}

func (s *fakeStore) SetWorkspaceTier(_ context.Context, name, tier, actor string) (tenant.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tier != tenant.TierFree && tier != tenant.TierStandard || actor == "" {
		return tenant.Workspace{}, fmt.Errorf("tier %q by %q: %w", tier, actor, store.ErrInvalid)
	}
	w, ok := s.workspaces[name]
	if !ok {
		return tenant.Workspace{}, fmt.Errorf("workspace %s: %w", name, store.ErrNotFound)
	}
	if w.Tier != tier {
		s.workspaces[name] = tenant.Workspace{Name: name, Tier: tier, Created: w.Created}
		s.audit = append(s.audit, store.AuditEntry{
			ID: int64(len(s.audit) + 1), Workspace: name, Actor: actor,
			Action: "workspace.tier", Target: "workspace:" + name, Detail: w.Tier + " -> " + tier,
		})
	}
	return w, nil
}

func (s *fakeStore) CreateKey(_ context.Context, k tenant.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workspaces[k.Workspace]; !ok {
		return fmt.Errorf("key's workspace %s: %w", k.Workspace, store.ErrNotFound)
	}
	k.Hash = bytes.Clone(k.Hash)
	s.keys = append(s.keys, k)
	return nil
}

func (s *fakeStore) KeyByHash(_ context.Context, hash []byte) (tenant.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyLookups++
	if s.failKeys != nil {
		return tenant.APIKey{}, s.failKeys
	}
	for _, k := range s.keys {
		if bytes.Equal(k.Hash, hash) {
			return k, nil
		}
	}
	return tenant.APIKey{}, fmt.Errorf("key: %w", store.ErrNotFound)
}

func (s *fakeStore) Keys(_ context.Context, workspace string) ([]tenant.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []tenant.APIKey
	for _, k := range s.keys {
		if k.Workspace == workspace {
			ks = append(ks, k)
		}
	}
	return ks, nil
}

func (s *fakeStore) RevokeKey(_ context.Context, workspace, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keys {
		if k.Workspace == workspace && k.ID == id {
			if k.Scope == tenant.ScopeAdmin && k.Revoked == nil {
				others := 0
				for _, o := range s.keys {
					if o.Workspace == workspace && o.ID != id && o.Scope == tenant.ScopeAdmin && o.Revoked == nil && !o.Expired(at) {
						others++
					}
				}
				if others == 0 {
					return fmt.Errorf("revoke key %s: %w", id, store.ErrLastAdminKey)
				}
			}
			if k.Revoked == nil {
				s.keys[i].Revoked = &at
			}
			return nil
		}
	}
	return fmt.Errorf("key %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) RotateKey(ctx context.Context, workspace, id string, successor tenant.APIKey, oldExpires time.Time) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.keys, func(k tenant.APIKey) bool { return k.Workspace == workspace && k.ID == id })
	s.mu.Unlock()
	if i < 0 {
		return fmt.Errorf("rotate key %s: %w", id, store.ErrNotFound)
	}
	if err := s.CreateKey(ctx, successor); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.keys[i].Expires; e == nil || oldExpires.Before(*e) {
		s.keys[i].Expires = &oldExpires
	}
	return nil
}

func (s *fakeStore) TouchKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touches = append(s.touches, id)
	for i, k := range s.keys {
		if k.ID == id {
			s.keys[i].LastUsed = &at
			return nil
		}
	}
	return fmt.Errorf("key %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) PutSource(_ context.Context, src tenant.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.sources {
		if x.Workspace == src.Workspace && x.Name == src.Name {
			s.sources[i] = src
			return nil
		}
	}
	s.sources = append(s.sources, src)
	return nil
}

func (s *fakeStore) Source(_ context.Context, workspace, name string) (tenant.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sources {
		if x.Workspace == workspace && x.Name == name {
			return x, nil
		}
	}
	return tenant.Source{}, fmt.Errorf("source %s: %w", name, store.ErrNotFound)
}

func (s *fakeStore) Sources(_ context.Context, workspace string) ([]tenant.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Source
	for _, x := range s.sources {
		if x.Workspace == workspace {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *fakeStore) SourcePage(ctx context.Context, workspace string, q store.SourceQuery) ([]tenant.Source, string, error) {
	all, _ := s.Sources(ctx, workspace)
	slices.SortFunc(all, func(a, b tenant.Source) int { return strings.Compare(a.Name, b.Name) })
	return page(all, q.Limit, q.Cursor)
}

func (s *fakeStore) CreateSource(ctx context.Context, src tenant.Source, max int) error {
	if _, err := s.Source(ctx, src.Workspace, src.Name); err == nil {
		return fmt.Errorf("source %s: %w", src.Name, store.ErrConflict)
	}
	if all, _ := s.Sources(ctx, src.Workspace); max > 0 && len(all) >= max {
		return fmt.Errorf("create source %s: %w", src.Name, tenant.ErrSourceLimit)
	}
	return s.PutSource(ctx, src)
}

// Commit keeps events and makes one alert a dedup key; enough for the API.
func (s *fakeStore) Commit(_ context.Context, batches []*store.Batch) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range batches {
		if s.batches[b.ID] {
			continue
		}
		s.batches[b.ID] = true
		n++
		s.events = append(s.events, b.Events...)
		for _, q := range b.Quarantined {
			s.quarantine = append(s.quarantine, store.QuarantineEntry{ID: int64(len(s.quarantine) + 1), Workspace: b.Workspace,
				Source: b.Source, Format: b.Format, BatchID: b.ID.String(), RecordID: q.ID.String(), Line: q.Line, Reason: q.Reason, Raw: string(q.Raw)})
		}
	sig:
		for _, sg := range b.Signals {
			for i, a := range s.alerts {
				if a.Workspace == sg.Workspace && a.DedupKey == sg.DedupKey && a.Status.Open() {
					s.alerts[i].Add(sg, b.Received)
					continue sig
				}
			}
			s.nextAlert++
			s.alerts = append(s.alerts, *alert.New(fmt.Sprintf("al-%04d", s.nextAlert), sg, b.Received))
		}
	}
	return n, nil
}

func page[T any](items []T, limit int, cursor string) ([]T, string, error) {
	off := 0
	if cursor != "" {
		var err error
		off, err = strconv.Atoi(cursor)
		if err != nil || off < 0 || off > len(items) {
			return nil, "", fmt.Errorf("cursor %q: %w", cursor, store.ErrInvalid)
		}
	}
	if limit <= 0 {
		limit = 100
	}
	end := min(off+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[off:end], next, nil
}

func (s *fakeStore) Events(_ context.Context, workspace string, q store.EventQuery) ([]store.StoredEvent, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.StoredEvent
	for _, e := range s.events {
		if e.Workspace != workspace ||
			!q.From.IsZero() && e.Time.Before(q.From) ||
			!q.To.IsZero() && !e.Time.Before(q.To) ||
			q.Source != "" && e.Source != q.Source ||
			q.Entity != "" && !slices.Contains(e.Common[:], q.Entity) ||
			len(q.Entities) > 0 && !slices.ContainsFunc(q.Entities, func(v string) bool { return slices.Contains(e.Common[:], v) }) {
			continue
		}
		out = append(out, e)
	}
	return page(out, q.Limit, q.Cursor)
}

func (s *fakeStore) Event(_ context.Context, workspace string, id event.ID) (store.StoredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.Workspace == workspace && e.ID == id {
			return e, nil
		}
	}
	return store.StoredEvent{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) Alerts(_ context.Context, workspace string, q store.AlertQuery) ([]alert.Alert, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAlerts != nil {
		return nil, "", s.failAlerts
	}
	var out []alert.Alert
	for _, a := range s.alerts {
		if a.Workspace != workspace ||
			len(q.Status) > 0 && !slices.Contains(q.Status, a.Status) ||
			q.MinSeverity != nil && a.Severity < *q.MinSeverity ||
			q.RuleID != "" && a.Rule.ID != q.RuleID ||
			q.Entity != "" && !slices.ContainsFunc(a.Entities, func(e alert.Entity) bool { return e.Value == q.Entity }) ||
			!q.Since.IsZero() && a.LastSeen.Before(q.Since) ||
			!q.Until.IsZero() && !a.LastSeen.Before(q.Until) {
			continue
		}
		out = append(out, a)
	}
	if q.Sort == store.AlertSortPriority {
		slices.SortStableFunc(out, func(a, b alert.Alert) int { return b.Priority - a.Priority })
	}
	return page(out, q.Limit, q.Cursor)
}

func (s *fakeStore) CountAlerts(ctx context.Context, workspace string, q store.AlertQuery) (int, error) {
	q.Limit, q.Cursor = 1<<30, ""
	as, _, err := s.Alerts(ctx, workspace, q)
	return len(as), err
}

func (s *fakeStore) Alert(_ context.Context, workspace, id string) (alert.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.alerts {
		if a.Workspace == workspace && a.ID == id {
			return a, nil
		}
	}
	return alert.Alert{}, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) SetAlertStatus(_ context.Context, workspace, id string, st alert.Status, actor string) (alert.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !st.Valid() {
		return alert.Alert{}, fmt.Errorf("status %q: %w", st, store.ErrInvalid)
	}
	for i, a := range s.alerts {
		if a.Workspace == workspace && a.ID == id {
			old := a.Status
			if err := alert.CheckTransition(old, st); err != nil {
				return alert.Alert{}, fmt.Errorf("alert %s: %w: %w", id, store.ErrConflict, err)
			}
			s.alerts[i].Status = st
			s.audit = append(s.audit, store.AuditEntry{
				ID: int64(len(s.audit) + 1), Workspace: workspace, Actor: actor,
				Action: "alert.status", Target: id, Detail: string(old) + " -> " + string(st),
			})
			return s.alerts[i], nil
		}
	}
	return alert.Alert{}, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) Audit(_ context.Context, e store.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.audit) + 1)
	e.Count = max(e.Count, 1)
	s.audit = append(s.audit, e)
	return nil
}

func (s *fakeStore) AuditRepeat(_ context.Context, e store.AuditEntry, since time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Count = max(e.Count, 1)
	for i := len(s.audit) - 1; i >= 0; i-- {
		a := &s.audit[i]
		if a.Workspace == e.Workspace && a.Actor == e.Actor && a.Action == e.Action && a.Target == e.Target &&
			a.Detail == e.Detail && !a.Time.Before(since) {
			a.Count += e.Count
			last := e.Time
			a.Last = &last
			return nil
		}
	}
	e.ID = int64(len(s.audit) + 1)
	s.audit = append(s.audit, e)
	return nil
}

func (s *fakeStore) PurgeAudit(context.Context, time.Time) (int64, error) {
	return 0, errors.New("fakeStore: PurgeAudit is not used by the API")
}

func (s *fakeStore) AuditLog(_ context.Context, workspace string, q store.AuditQuery) ([]store.AuditEntry, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.AuditEntry
	for i := len(s.audit) - 1; i >= 0; i-- { // newest first
		if s.audit[i].Workspace == workspace {
			out = append(out, s.audit[i])
		}
	}
	return page(out, q.Limit, q.Cursor)
}

func (s *fakeStore) Quarantine(_ context.Context, workspace string, q store.QuarantineQuery) ([]store.QuarantineEntry, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.QuarantineEntry
	for _, e := range s.quarantine {
		if e.Workspace == workspace && (q.Source == "" || e.Source == q.Source) {
			out = append(out, e)
		}
	}
	return out, "", nil
}

func (s *fakeStore) PurgeQuarantine(context.Context, time.Time, int) (int64, error) {
	return 0, errors.New("fakeStore: PurgeQuarantine is not used by the API")
}

func (s *fakeStore) PurgeEvents(context.Context, time.Time) (int64, error) {
	return 0, errors.New("fakeStore: PurgeEvents is not used by the API")
}

func (s *fakeStore) PurgeCommittedBatches(context.Context, time.Time) (int64, error) {
	return 0, errors.New("fakeStore: PurgeCommittedBatches is not used by the API")
}

func (s *fakeStore) Close() error { return nil }

// auditOf returns the entries of one action, oldest first.
func (s *fakeStore) auditOf(action string) []store.AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.AuditEntry
	for _, e := range s.audit {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// auditCount sums the counts of one action's entries.
func (s *fakeStore) auditCount(action string) int {
	n := 0
	for _, e := range s.auditOf(action) {
		n += e.Count
	}
	return n
}
