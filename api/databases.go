package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// maxDatabaseScan bounds the alerts one database request reads: the
// database of an alert is found from its evidence, alert by alert.
const maxDatabaseScan = 10000

// noDatabase stands in for a database an alert names none of (a login
// refused before a database was named), and for a server when the
// alert's events are gone and it names no host.
const noDatabase = "-"

// dbPlace is the database server and database an alert is about.
type dbPlace struct{ server, database string }

// alertPlace finds where an alert happened (store.DatabasePlaceOf) from
// its evidence as read reads it.
func (a *API) alertPlace(ctx context.Context, ws string, al *alert.Alert, read evidenceReader) (dbPlace, bool, error) {
	p, err := store.DatabasePlaceOf(al, func(id event.ID) (store.StoredEvent, bool, error) {
		se, err := read(ctx, ws, id)
		if errors.Is(err, store.ErrNotFound) {
			return se, false, nil
		}
		return se, err == nil, err
	})
	return dbPlace{p.Server, p.Database}, p.IsDatabase, err
}

// databaseIndex is a store that records each alert's database as it
// commits it (store/sqlite, store/postgres): the databases routes then group and filter in
// the store instead of reading every alert's evidence event.
type databaseIndex interface {
	DatabaseCounts(ctx context.Context, workspace string, q store.AlertQuery) ([]store.DatabaseCount, error)
	DatabaseAlerts(ctx context.Context, workspace, server, database string, q store.AlertQuery) ([]alert.Alert, string, error)
}

// evidenceReader reads one evidence event.
type evidenceReader func(ctx context.Context, ws string, id event.ID) (store.StoredEvent, error)

// eventsByID is the store's read of many events at once, decoding each
// event block once (store/sqlite has it).
type eventsByID interface {
	EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error)
}

// evidenceOf reads the first evidence event of each alert of a page in
// one go when the store can, and gives alertPlace a reader over them: one
// lookup a page instead of one an alert (a second for 1,000 alerts).
func (a *API) evidenceOf(ctx context.Context, ws string, page []alert.Alert) (evidenceReader, error) {
	batch, ok := a.store.(eventsByID)
	if !ok {
		return a.store.Event, nil
	}
	ids := make([]event.ID, 0, len(page))
	for i := range page {
		for _, e := range page[i].Evidence {
			if id, err := event.ParseID(e.EventID); err == nil {
				ids = append(ids, id)
				break
			}
		}
	}
	evs, err := batch.EventsByID(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ws string, id event.ID) (store.StoredEvent, error) {
		if e, ok := evs[id]; ok {
			return e, nil
		}
		return store.StoredEvent{}, store.ErrNotFound
	}, nil
}

// databaseQuery is the store query of an alertsInput (the filters of the
// alert list).
func databaseQuery(in *alertsInput) (store.AlertQuery, error) {
	q := store.AlertQuery{RuleID: in.Rule, Entity: in.Entity, Since: in.Since, Until: in.Until}
	for _, v := range in.Status {
		for s := range strings.SplitSeq(v, ",") {
			st := alert.Status(strings.TrimSpace(s))
			if st == "" {
				continue
			}
			if !st.Valid() {
				return q, invalid("query.status", "want new, active, resolved or dismissed", s)
			}
			q.Status = append(q.Status, st)
		}
	}
	if in.Severity != "" {
		sev, err := alert.ParseSeverity(in.Severity)
		if err != nil {
			return q, invalid("query.severity", err.Error(), in.Severity)
		}
		q.MinSeverity = &sev
	}
	if !in.Since.IsZero() && !in.Until.IsZero() && !in.Since.Before(in.Until) {
		return q, invalid("query.until", "until must be after since", in.Until)
	}
	return q, nil
}

// DatabaseAlerts counts the alerts of one database (or of a server).
type DatabaseAlerts struct {
	Alerts     int            `json:"alerts" doc:"Alerts about it."`
	BySeverity map[string]int `json:"by_severity" doc:"Alerts by severity."`
	ByType     map[string]int `json:"by_type" doc:"Alerts by alert type (the rule's title, e.g. Potential SQL Injection)."`
	LastSeen   time.Time      `json:"last_seen" doc:"When the latest of them was last seen."`
	LastAlert  string         `json:"last_alert" doc:"Id of that alert."`
	LastType   string         `json:"last_type" doc:"Its type."`
}

func (d *DatabaseAlerts) add(al *alert.Alert) {
	if d.BySeverity == nil {
		d.BySeverity, d.ByType = map[string]int{}, map[string]int{}
	}
	d.Alerts++
	d.BySeverity[al.Severity.String()]++
	d.ByType[al.Rule.Title]++
	if al.LastSeen.After(d.LastSeen) || d.LastAlert == "" {
		d.LastSeen, d.LastAlert, d.LastType = al.LastSeen, al.ID, al.Rule.Title
	}
}

// DatabaseSummary is one database of a server.
type DatabaseSummary struct {
	Database string `json:"database" doc:"The database's name; \"-\" for alerts about the server but no database."`
	DatabaseAlerts
}

// ServerSummary is one database server with its databases.
type ServerSummary struct {
	Server string `json:"server" doc:"The server: the audit record's server (host.name) or else the source that sent the log; \"-\" when unknown."`
	DatabaseAlerts
	Databases []DatabaseSummary `json:"databases"`
}

type databasesOutput struct {
	Body struct {
		Servers   []ServerSummary `json:"servers"`
		Scanned   int             `json:"scanned" doc:"Alerts read to answer."`
		Truncated bool            `json:"truncated" doc:"More alerts matched than one answer reads (10000): narrow the range with since/until."`
	}
}

type databaseAlertsInput struct {
	Server   string    `path:"server" doc:"The server, as GET /api/v1/databases names it."`
	Database string    `path:"database" doc:"The database, as GET /api/v1/databases names it (\"-\" for none)."`
	Status   []string  `query:"status,explode" doc:"Keep alerts of these statuses (new, active, resolved, dismissed)."`
	Severity string    `query:"severity" enum:"informational,low,medium,high,critical" doc:"Keep alerts of this severity or higher."`
	Rule     string    `query:"rule" doc:"Keep alerts of this rule id."`
	Since    time.Time `query:"since" doc:"Keep alerts last seen at or after this time (RFC 3339)."`
	Until    time.Time `query:"until" doc:"Keep alerts last seen before this time (RFC 3339)."`
	PageQuery
}

func (a *API) registerDatabases(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-databases",
		Method:      http.MethodGet,
		Path:        "/api/v1/databases",
		Summary:     "Database servers and databases with their alerts",
		Description: "The servers and databases the workspace's alerts are about (SQL audit sources), with counts by severity and type and the latest alert. Takes the alert list's filters.",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listDatabases)
	huma.Register(h, huma.Operation{
		OperationID: "list-database-alerts",
		Method:      http.MethodGet,
		Path:        "/api/v1/databases/{server}/{database}/alerts",
		Summary:     "Alerts of one database",
		Description: "The alerts about one database of one server, paged like the alert list (a page may hold fewer than limit: follow next).",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listDatabaseAlerts)
}

func (a *API) listDatabases(ctx context.Context, in *alertsInput) (*databasesOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q, err := databaseQuery(in)
	if err != nil {
		return nil, err
	}
	if idx, ok := a.store.(databaseIndex); ok {
		return a.listIndexedDatabases(ctx, k.Workspace, idx, q)
	}
	servers := map[string]*ServerSummary{}
	dbs := map[dbPlace]*DatabaseSummary{}
	out := &databasesOutput{}
	q.Limit = 1000
	for {
		page, next, err := a.store.Alerts(ctx, k.Workspace, q)
		if err != nil {
			return nil, a.storeError(ctx, "alerts", err)
		}
		read, err := a.evidenceOf(ctx, k.Workspace, page)
		if err != nil {
			return nil, a.storeError(ctx, "alerts' evidence", err)
		}
		for i := range page {
			al := &page[i]
			out.Body.Scanned++
			p, ok, err := a.alertPlace(ctx, k.Workspace, al, read)
			if err != nil {
				return nil, a.storeError(ctx, "alert "+al.ID+" evidence", err)
			}
			if !ok {
				continue
			}
			if p.database == "" {
				p.database = noDatabase
			}
			if p.server == "" {
				p.server = noDatabase
			}
			s := servers[p.server]
			if s == nil {
				s = &ServerSummary{Server: p.server}
				servers[p.server] = s
			}
			s.add(al)
			d := dbs[p]
			if d == nil {
				d = &DatabaseSummary{Database: p.database}
				dbs[p] = d
			}
			d.add(al)
		}
		if next == "" {
			break
		}
		if out.Body.Scanned >= maxDatabaseScan {
			out.Body.Truncated = true
			break
		}
		q.Cursor = next
	}
	out.Body.Servers = []ServerSummary{}
	for p, d := range dbs {
		servers[p.server].Databases = append(servers[p.server].Databases, *d)
	}
	for _, s := range servers {
		sort.Slice(s.Databases, func(i, j int) bool { return s.Databases[i].Database < s.Databases[j].Database })
		out.Body.Servers = append(out.Body.Servers, *s)
	}
	sort.Slice(out.Body.Servers, func(i, j int) bool { return out.Body.Servers[i].Server < out.Body.Servers[j].Server })
	return out, nil
}

func (a *API) listDatabaseAlerts(ctx context.Context, in *databaseAlertsInput) (*alertsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q, err := databaseQuery(&alertsInput{Status: in.Status, Severity: in.Severity, Rule: in.Rule, Since: in.Since, Until: in.Until})
	if err != nil {
		return nil, err
	}
	want := dbPlace{in.Server, in.Database}
	if want.database == noDatabase {
		want.database = ""
	}
	if want.server == noDatabase {
		want.server = ""
	}
	limit := in.PageQuery.Limit
	if limit <= 0 {
		limit = 100
	}
	out := &alertsOutput{}
	out.Body.Alerts = []alert.Alert{}
	if idx, ok := a.store.(databaseIndex); ok {
		q.Limit, q.Cursor = limit, in.PageQuery.Cursor
		page, next, err := idx.DatabaseAlerts(ctx, k.Workspace, want.server, want.database, q)
		if err != nil {
			return nil, a.storeError(ctx, "alerts of database "+in.Server+"/"+in.Database, err)
		}
		out.Body.Alerts = append(out.Body.Alerts, page...)
		out.Body.Next = next
		return out, nil
	}
	q.Cursor = in.PageQuery.Cursor
	scanned := 0
	for {
		// Asking for no more than are still wanted ends every page on the
		// store's own cursor.
		q.Limit = limit - len(out.Body.Alerts)
		page, next, err := a.store.Alerts(ctx, k.Workspace, q)
		if err != nil {
			return nil, a.storeError(ctx, "alerts", err)
		}
		read, err := a.evidenceOf(ctx, k.Workspace, page)
		if err != nil {
			return nil, a.storeError(ctx, "alerts' evidence", err)
		}
		for i := range page {
			p, ok, err := a.alertPlace(ctx, k.Workspace, &page[i], read)
			if err != nil {
				return nil, a.storeError(ctx, "alert "+page[i].ID+" evidence", err)
			}
			if ok && p == want {
				out.Body.Alerts = append(out.Body.Alerts, page[i])
			}
		}
		scanned += len(page)
		out.Body.Next = next
		if next == "" || len(out.Body.Alerts) >= limit || scanned >= maxDatabaseScan {
			return out, nil
		}
		q.Cursor = next
	}
}

// listIndexedDatabases answers GET /api/v1/databases from the store's
// counts by server, database, severity and type: every matching alert
// counts (nothing is truncated).
func (a *API) listIndexedDatabases(ctx context.Context, ws string, idx databaseIndex, q store.AlertQuery) (*databasesOutput, error) {
	counts, err := idx.DatabaseCounts(ctx, ws, q)
	if err != nil {
		return nil, a.storeError(ctx, "databases", err)
	}
	out := &databasesOutput{}
	if out.Body.Scanned, err = a.store.CountAlerts(ctx, ws, q); err != nil {
		return nil, a.storeError(ctx, "alerts", err)
	}
	servers := map[string]*ServerSummary{}
	dbs := map[dbPlace]*DatabaseSummary{}
	for _, c := range counts {
		p := dbPlace{c.Server, c.Database}
		if p.database == "" {
			p.database = noDatabase
		}
		if p.server == "" {
			p.server = noDatabase
		}
		s := servers[p.server]
		if s == nil {
			s = &ServerSummary{Server: p.server}
			servers[p.server] = s
		}
		s.addCount(c)
		d := dbs[p]
		if d == nil {
			d = &DatabaseSummary{Database: p.database}
			dbs[p] = d
		}
		d.addCount(c)
	}
	out.Body.Servers = []ServerSummary{}
	for p, d := range dbs {
		servers[p.server].Databases = append(servers[p.server].Databases, *d)
	}
	for _, s := range servers {
		sort.Slice(s.Databases, func(i, j int) bool { return s.Databases[i].Database < s.Databases[j].Database })
		out.Body.Servers = append(out.Body.Servers, *s)
	}
	sort.Slice(out.Body.Servers, func(i, j int) bool { return out.Body.Servers[i].Server < out.Body.Servers[j].Server })
	return out, nil
}

// addCount adds the store's count of some alerts; the latest alert is the
// one an alert-by-alert add keeps (last seen latest, then greatest id).
func (d *DatabaseAlerts) addCount(c store.DatabaseCount) {
	if d.BySeverity == nil {
		d.BySeverity, d.ByType = map[string]int{}, map[string]int{}
	}
	d.Alerts += c.Alerts
	d.BySeverity[c.Severity.String()] += c.Alerts
	d.ByType[c.Type] += c.Alerts
	if d.LastAlert == "" || c.LastSeen.After(d.LastSeen) || (c.LastSeen.Equal(d.LastSeen) && c.LastAlert > d.LastAlert) {
		d.LastSeen, d.LastAlert, d.LastType = c.LastSeen, c.LastAlert, c.Type
	}
}
