package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// registerDatabases adds the databases pages: every database server and
// database the alerts are about, and one database's alerts.
func (h *Handler) registerDatabases() {
	h.page("GET /databases", h.databases)
	h.page("GET /databases/{server}/{database}", h.database)
}

// dbCounts is the API's count of one server's or database's alerts
// (GET /api/v1/databases).
type dbCounts struct {
	Alerts     int            `json:"alerts"`
	BySeverity map[string]int `json:"by_severity"`
	ByType     map[string]int `json:"by_type"`
	LastSeen   time.Time      `json:"last_seen"`
	LastAlert  string         `json:"last_alert"`
	LastType   string         `json:"last_type"`
}

type dbServer struct {
	Server string `json:"server"`
	dbCounts
	Databases []struct {
		Database string `json:"database"`
		dbCounts
	} `json:"databases"`
}

type dbList struct {
	Servers   []dbServer `json:"servers"`
	Scanned   int        `json:"scanned"`
	Truncated bool       `json:"truncated"`
}

// sevShare is one severity's part of a bar.
type sevShare struct {
	Severity string
	N        int
	// X and Pct place it on a bar 100 wide.
	X, Pct float64
	// Fill is its colour's class.
	Fill string
}

// typeCount is one alert type and its alerts.
type typeCount struct {
	Type string
	N    int
}

// dbRow is a database (or a server's total) as the page shows it.
type dbRow struct {
	Server, Database string
	// Link is the database's own page.
	Link     string
	Counts   dbCounts
	Shares   []sevShare
	TopTypes []typeCount
	// MoreTypes counts the types beyond TopTypes.
	MoreTypes int
	// Types are all its alert types, most alerts first.
	Types []typeCount
}

// severityOrder is the worst first.
var severityOrder = []string{"critical", "high", "medium", "low", "informational"}

func newDBRow(server, database string, c dbCounts) dbRow {
	row := dbRow{Server: server, Database: database, Counts: c,
		Link: "/databases/" + url.PathEscape(server) + "/" + url.PathEscape(database)}
	x := 0.0
	for _, s := range severityOrder {
		if n := c.BySeverity[s]; n > 0 {
			w := pct(n, c.Alerts)
			row.Shares = append(row.Shares, sevShare{Severity: s, N: n, X: x, Pct: w,
				Fill: "fill-" + strings.TrimPrefix(sevClass(s), "sev-")})
			x += w
		}
	}
	for t, n := range c.ByType {
		row.TopTypes = append(row.TopTypes, typeCount{t, n})
	}
	sort.Slice(row.TopTypes, func(i, j int) bool {
		a, b := row.TopTypes[i], row.TopTypes[j]
		return a.N > b.N || a.N == b.N && a.Type < b.Type
	})
	row.Types = row.TopTypes
	if len(row.TopTypes) > 3 {
		row.MoreTypes = len(row.TopTypes) - 3
		row.TopTypes = row.TopTypes[:3]
	}
	return row
}

// dbFilter is the filters the databases pages pass on to the API.
type dbFilter struct {
	Severity string
	Status   string
}

func readDBFilter(r *http.Request) (dbFilter, url.Values) {
	f := dbFilter{Severity: r.URL.Query().Get("severity"), Status: r.URL.Query().Get("status")}
	q := url.Values{}
	if f.Severity != "" {
		q.Set("severity", f.Severity)
	}
	switch f.Status {
	case "":
	case "open":
		q["status"] = []string{"new", "active"}
	default:
		q.Set("status", f.Status)
	}
	return f, q
}

// dbServerGroup is a server with its databases, on the list page.
type dbServerGroup struct {
	Server dbRow
	// Databases counts the server's databases (some may be on another
	// page).
	Databases int
	Rows      []dbRow
}

func (h *Handler) databases(w http.ResponseWriter, r *http.Request, s Session) {
	f, q := readDBFilter(r)
	var list dbList
	if err := h.get(r, "/api/v1/databases", q, &list); err != nil {
		h.fail(w, r, s, err)
		return
	}
	// The page lists databases, grouped under their server; it pages
	// over the databases.
	var all []dbRow
	for _, sv := range list.Servers {
		for _, d := range sv.Databases {
			all = append(all, newDBRow(sv.Server, d.Database, d.dbCounts))
		}
	}
	rows, _, pgr := offsetPage(r.URL, all, "cursor", listPageSize, "")
	var groups []dbServerGroup
	for _, row := range rows {
		if len(groups) == 0 || groups[len(groups)-1].Server.Server != row.Server {
			for _, sv := range list.Servers {
				if sv.Server == row.Server {
					groups = append(groups, dbServerGroup{Server: newDBRow(sv.Server, "", sv.dbCounts), Databases: len(sv.Databases)})
				}
			}
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, row)
	}
	total := 0
	for _, sv := range list.Servers {
		total += sv.Alerts
	}
	h.render(w, r, http.StatusOK, "databases", Page{Title: "Databases", Nav: "databases", Session: s, Data: map[string]any{
		"Groups": groups, "Servers": len(list.Servers), "Databases": len(all), "Alerts": total,
		"Scanned": list.Scanned, "Truncated": list.Truncated, "Filter": f, "URL": r.URL,
		"Pager": pgr,
	}})
}

func (h *Handler) database(w http.ResponseWriter, r *http.Request, s Session) {
	server, database := r.PathValue("server"), r.PathValue("database")
	f, q := readDBFilter(r)
	var list dbList
	if err := h.get(r, "/api/v1/databases", q, &list); err != nil {
		h.fail(w, r, s, err)
		return
	}
	row := newDBRow(server, database, dbCounts{})
	for _, sv := range list.Servers {
		for _, d := range sv.Databases {
			if sv.Server == server && d.Database == database {
				row = newDBRow(server, database, d.dbCounts)
			}
		}
	}
	q.Set("limit", "50")
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var page struct {
		Alerts []alert.Alert `json:"alerts"`
		Next   string        `json:"next"`
	}
	path := "/api/v1/databases/" + server + "/" + database + "/alerts"
	if err := h.get(r, path, q, &page); err != nil {
		h.fail(w, r, s, err)
		return
	}
	title := database + " on " + server
	h.render(w, r, http.StatusOK, "database", Page{Title: title, Nav: "databases", Session: s, Data: map[string]any{
		"Row": row, "Alerts": page.Alerts, "Filter": f, "URL": r.URL, "Truncated": list.Truncated,
		"Pager": pager(r.URL, len(page.Alerts), row.Counts.Alerts, page.Next),
	}})
}

// Severities are the severity filter's choices.
func (dbFilter) Severities() []string { return []string{"critical", "high", "medium", "low"} }

// Statuses are the status filter's choices ("open" is new or active).
func (dbFilter) Statuses() []string {
	return []string{"open", "new", "active", "resolved", "dismissed"}
}
