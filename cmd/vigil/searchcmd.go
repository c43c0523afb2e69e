package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/query"
	"github.com/vigil-sec/vigil/store"
)

// searchIncidentWindow widens an incident's activity, by default, to the events
// that led to it and followed it (as the API does).
const searchIncidentWindow = time.Hour

// newEventsCmd is `vigil events`: reading the stored events.
func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Search the events of the data directory's store"}
	search := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search a workspace's stored events with a query (field:value, wildcards, CIDR, ranges, AND/OR/NOT)",
		Long: `Search a workspace's stored events, newest first, with the query language
of docs/investigation.md:

  vigil events search 'EventID:4625 AND source.ip:10.0.0.0/8' --workspace acme --from 24h
  vigil events search 'NOT event.outcome:success' --workspace acme --incident INC_ID

Values compare without regard to case. --from, --to, --source and
--incident narrow the stored events first (the store's indexes); the query
then tests each one, decoded again. With --incident, the events are those
of the incident's entities, from an hour before its first activity to an
hour after its last unless --from or --to say otherwise.

Prints a table (time, source, id and the main common fields) or, with
--json, each event as NDJSON in the form of "vigil decode". The number of
events tested goes to standard error. An empty QUERY ("") keeps every
event. Exit status 1 on an invalid query (with its column) or a store error.`,
		Args: cobra.ExactArgs(1),
		RunE: runEventsSearch,
	}
	f := search.Flags()
	f.String("workspace", "", "workspace (required)")
	f.String("from", "", "events at or after this time: RFC 3339, or a duration before now (24h)")
	f.String("to", "", "events before this time: RFC 3339, or a duration before now")
	f.String("source", "", "only the events of this source")
	f.String("incident", "", "only the events of this incident's entities over its time range")
	f.Bool("json", false, "print the events as NDJSON, one a line, as vigil decode does")
	f.Int("limit", 100, "print at most this many events; 0 for all")
	f.Bool("explain", false, "print the query's canonical form to standard error before searching")
	_ = search.MarkFlagRequired("workspace")
	addStoreFlags(search)
	cmd.AddCommand(search)
	return cmd
}

// searchTime reads --from or --to: an RFC 3339 time, or a duration back
// from now.
func searchTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time (2026-03-01T10:00:00Z) or a duration before now (24h)", flag, v)
	}
	return t.UTC(), nil
}

func runEventsSearch(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	ws, _ := f.GetString("workspace")
	source, _ := f.GetString("source")
	incID, _ := f.GetString("incident")
	asJSON, _ := f.GetBool("json")
	limit, _ := f.GetInt("limit")
	explain, _ := f.GetBool("explain")
	if limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", limit)
	}
	now := time.Now()
	fromS, _ := f.GetString("from")
	toS, _ := f.GetString("to")
	from, err := searchTime("from", fromS, now)
	if err != nil {
		return err
	}
	to, err := searchTime("to", toS, now)
	if err != nil {
		return err
	}
	q, err := query.Parse(args[0])
	if err != nil {
		return err // says the column and the token
	}
	if explain {
		fmt.Fprintln(cmd.ErrOrStderr(), "query:", q.String())
	}

	db, err := openStore(cmd, false)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := cmd.Context()
	if _, err := db.Workspace(ctx, ws); err != nil {
		return err
	}
	sq := store.EventQuery{From: from, To: to, Source: source, Limit: 1000}
	if incID != "" {
		inc, err := searchIncident(ctx, db, ws, incID)
		if err != nil {
			return err
		}
		sq.Entities = searchEntities(inc)
		if len(sq.Entities) == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "incident %s has no entities: no events to search\n", incID)
			return nil
		}
		if fromS == "" && !inc.FirstSeen.IsZero() {
			sq.From = inc.FirstSeen.Add(-searchIncidentWindow)
		}
		if toS == "" && !inc.LastSeen.IsZero() {
			sq.To = inc.LastSeen.Add(searchIncidentWindow)
		}
	}
	if !sq.From.IsZero() && !sq.To.IsZero() && !sq.From.Before(sq.To) {
		return fmt.Errorf("--to %s is not after --from %s", sq.To.Format(time.RFC3339), sq.From.Format(time.RFC3339))
	}

	p := newEventPrinter(cmd, asJSON)
	scanned, printed, err := searchStore(ctx, db, ws, sq, q, limit, p.print)
	if err != nil {
		return err
	}
	if err := p.flush(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d events printed, %d scanned\n", printed, scanned)
	return nil
}

// searchStore pages the events sq selects, newest first, and hands those
// q matches to found until limit (0: no limit) were found.
func searchStore(ctx context.Context, db store.Store, ws string, sq store.EventQuery, q *query.Query, limit int,
	found func(ev *event.Event, decodeErr error) error) (scanned, matched int, err error) {
	r := decode.NewRenderer()
	var fields query.EventFields
	for {
		evs, next, err := db.Events(ctx, ws, sq)
		if err != nil {
			return scanned, matched, err
		}
		for i := range evs {
			scanned++
			stored := evs[i].Event()
			ev, derr := r.Render(&stored)
			fields.Reset(ev)
			if !q.Match(&fields) {
				continue
			}
			if err := found(ev, derr); err != nil {
				return scanned, matched, err
			}
			matched++
			if limit > 0 && matched == limit {
				return scanned, matched, nil
			}
		}
		if next == "" {
			return scanned, matched, nil
		}
		sq.Cursor = next
	}
}

// searchIncident reads an incident from a store that keeps them.
func searchIncident(ctx context.Context, st store.Store, ws, id string) (incident.Incident, error) {
	ir, ok := st.(interface {
		Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
	})
	if !ok {
		return incident.Incident{}, fmt.Errorf("incident %s: this store keeps no incidents", id)
	}
	return ir.Incident(ctx, ws, id)
}

// searchEntities are the distinct entity values of an incident, at
// most store.MaxEventEntities.
func searchEntities(inc incident.Incident) []string {
	seen := map[string]bool{}
	var vals []string
	for _, e := range inc.Entities {
		if e.Value == "" || seen[e.Value] || len(vals) == store.MaxEventEntities {
			continue
		}
		seen[e.Value] = true
		vals = append(vals, e.Value)
	}
	return vals
}

// eventPrinter prints found events as a table or NDJSON.
type eventPrinter struct {
	cmd    *cobra.Command
	json   bool
	tw     *tabwriter.Writer
	buf    []byte
	header bool
}

func newEventPrinter(cmd *cobra.Command, asJSON bool) *eventPrinter {
	p := &eventPrinter{cmd: cmd, json: asJSON}
	if !asJSON {
		p.tw = tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	}
	return p
}

// searchTableFields are the common fields the table shows, when set.
var searchTableFields = []int{event.EventCode, event.EventAction, event.EventOutcome, event.UserName, event.SourceIP,
	event.DestinationIP, event.HostName, event.ProcessName, event.URLOriginal, event.DBName}

func (p *eventPrinter) print(ev *event.Event, decodeErr error) error {
	if p.json {
		p.buf = append(decode.AppendJSON(p.buf[:0], ev, decodeErr), '\n')
		_, err := p.cmd.OutOrStdout().Write(p.buf)
		return err
	}
	if !p.header {
		fmt.Fprintln(p.tw, "TIME\tSOURCE\tID\tFIELDS")
		p.header = true
	}
	var parts []string
	for _, c := range searchTableFields {
		if v := ev.Common[c]; v != "" {
			parts = append(parts, event.CommonName(c)+"="+searchCell(v, 60))
		}
	}
	if decodeErr != nil {
		parts = append(parts, "decode_error="+searchCell(decodeErr.Error(), 60))
	}
	_, err := fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\n", ev.Time.UTC().Format(time.RFC3339), ev.Source, ev.ID, strings.Join(parts, " "))
	return err
}

func (p *eventPrinter) flush() error {
	if p.tw == nil {
		return nil
	}
	return p.tw.Flush()
}

// searchCell keeps a value on its table line, cut to n characters.
func searchCell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
