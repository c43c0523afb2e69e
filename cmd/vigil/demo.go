package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const demoWorkspace = "demo"

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve vigil and replay a built-in multi-source sample, so you see alerts at once",
		Long: `Start vigil as "vigil serve" does, create the workspace "demo" with an admin
key and the user "demo" (an admin of it), and replay a small built-in sample
(Windows events, an sshd auth log, AWS CloudTrail records, a SQL Server audit
log, a web server access log and AWS VPC flow logs) through the HTTP ingest
API. It prints the alerts it raised; a link that opens the dashboard signed
in as demo (it works once, within an hour) and the user's password; the key
and curl lines to read the alerts; then keeps serving until interrupted.

Without --data-dir (or VIGIL_DATA_DIR, or data-dir in the config file) the
demo runs in a fresh temporary directory, removed at exit. With one, the data
stays, and running the demo there again replays nothing twice: the sample is
sent with the same Idempotency-Keys, so the store keeps it once. Each run
prints a new admin key and revokes the one the previous run printed, and
gives the user demo a new password.`,
		Args: cobra.NoArgs,
		RunE: runDemo,
	}
	addSettingFlags(cmd.Flags())
	// The demo's own default: a temporary directory, not serve's vigil-data.
	dd := cmd.Flags().Lookup("data-dir")
	dd.DefValue = ""
	_ = dd.Value.Set("")
	dd.Usage = "directory for the demo's data, kept after exit; default: a fresh temporary directory, removed at exit (env " + envName("data-dir") + ")"
	return cmd
}

// demoKeyName names the admin key the demo makes, so that the next run on
// the same data directory finds and revokes it.
const demoKeyName = "demo"

func runDemo(cmd *cobra.Command, _ []string) error {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		cfg.DataDir = abs // printed in advice that must work from any directory
	}
	testStoreSchema(cfg) // test builds: the schema of the data dir just made
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	s, err := startServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.shutdown(60 * time.Second)

	if _, err := s.store.CreateWorkspace(ctx, demoWorkspace, tenant.TierStandard); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("demo workspace: %w", err)
	}
	// The new key first: the last admin key of a workspace cannot be
	// revoked.
	secret, key, err := createKey(ctx, s.store, demoWorkspace, tenant.ScopeAdmin, demoKeyName, "demo")
	if err != nil {
		return err
	}
	revoked, err := revokeDemoKeys(ctx, s.store, key.ID)
	if err != nil {
		return err
	}
	before, err := storedRecords(ctx, s.store)
	if err != nil {
		return err
	}
	sent, sources, err := replayDemo(ctx, s.URL(), secret, func(ctx context.Context) error { return waitDrained(ctx, s) })
	if err != nil {
		return err
	}
	alerts, err := waitForAlerts(ctx, s, sent)
	if err != nil {
		return err
	}
	after, err := storedRecords(ctx, s.store)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nvigil demo is running at %s (data in %s)\n\n", s.URL(), cfg.DataDir)
	if before > 0 && after == before {
		fmt.Fprintf(out, "The sample (%d records from %d sources) was already stored in this data directory;\n"+
			"sent again with the same Idempotency-Keys, nothing was stored twice. %d alerts:\n", sent, sources, len(alerts))
	} else {
		fmt.Fprintf(out, "Replayed %d records from %d sources; %d alerts so far:\n", sent, sources, len(alerts))
	}
	groups := groupAlerts(alerts, alertSources(ctx, s.store, alerts))
	source := "\x00"
	for _, g := range groups {
		if g.source != source {
			source = g.source
			if source != "" {
				fmt.Fprintf(out, "  %s\n", source)
			}
		}
		fmt.Fprintf(out, "    %-8s %3d× %s", g.severity, g.events, g.title)
		if g.alerts > 1 {
			fmt.Fprintf(out, " (%d alerts: one per %s)", g.alerts, g.per)
		}
		fmt.Fprintln(out)
	}
	link, password, err := demoSignIn(ctx, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nDashboard (signed in as %s): %s\n  or sign in at %s/signin as %s with password %s\n"+
		"  (the link works once, within an hour; the password until the next demo run)\n",
		demoUserName, link, s.URL(), demoUserName, password)
	keyNote := "shown once"
	if revoked > 0 {
		keyNote = "new, shown once; the key of the previous demo run is revoked"
	}
	fmt.Fprintf(out, "\nAdmin key of workspace %q (%s):\n  %s\n\nRead the alerts:\n  curl -s -H 'Authorization: Bearer %s' %s/api/v1/alerts\n\n",
		demoWorkspace, keyNote, secret, secret, s.URL())
	if from, to, ok := alertSpan(alerts); ok {
		// The sample's times are fixed: the pane's default range (the last
		// 24 hours) would miss them.
		fmt.Fprintf(out, "Where the attacks come from (the threat-intelligence pane; also /threats/types and /threats/map):\n  curl -s -H 'Authorization: Bearer %s' '%s/api/v1/threats/origins?from=%s&to=%s'\n\n",
			secret, s.URL(), from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	fmt.Fprintf(out, "The incidents the alerts were grouped into, most urgent first (each with its assessment and timeline: /api/v1/incidents/{id}, /timeline):\n  curl -s -H 'Authorization: Bearer %s' '%s/api/v1/incidents?sort=priority'\n\n",
		secret, s.URL())
	fmt.Fprintf(out, "A read-only key, while the demo runs (or through the API: POST /api/v1/keys with the admin key):\n  %s\n\n",
		keyCommand(cfg.DataDir, demoWorkspace))
	fmt.Fprintf(out, "OpenAPI document: %s/api/v1/openapi.json — press Ctrl-C to stop.\n", s.URL())
	<-ctx.Done()
	return nil
}

// revokeDemoKeys revokes the admin keys earlier demo runs made in this data
// directory: their secrets were shown once and are gone with that run's
// output, so each run issues one new key instead of piling them up.
func revokeDemoKeys(ctx context.Context, db store.Store, keep string) (int, error) {
	keys, err := db.Keys(ctx, demoWorkspace)
	if err != nil {
		return 0, fmt.Errorf("demo keys: %w", err)
	}
	n := 0
	now := time.Now().UTC()
	for _, k := range keys {
		if k.Name != demoKeyName || k.Scope != tenant.ScopeAdmin || k.Revoked != nil || k.ID == keep {
			continue
		}
		if err := db.RevokeKey(ctx, demoWorkspace, k.ID, now); err != nil {
			return n, fmt.Errorf("revoking the previous demo key %s: %w", k.ID, err)
		}
		_ = db.Audit(ctx, store.AuditEntry{Workspace: demoWorkspace, Time: now, Actor: "demo", Action: "key.revoke", Target: k.ID, Detail: "replaced by a new demo run's key"})
		n++
	}
	return n, nil
}

// storedRecords counts the demo workspace's stored and quarantined records.
func storedRecords(ctx context.Context, db store.Store) (int64, error) {
	srcs, err := db.Sources(ctx, demoWorkspace)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range srcs {
		n += s.Events + s.Rejected
	}
	return n, nil
}

// replayDemo posts every built-in sample file to the ingest API, in name
// order, and returns the records accepted and the files (sources) sent. A
// file is named <source>.<format>.<ext>; the extension picks the content
// type. After each file it calls drained, which waits until the pipeline
// has processed it: the correlator drops matches more than a couple of
// minutes (in event time) behind the latest it has seen in the workspace,
// so the files must reach it one after another, in the order of their
// times (content/demo/README.md), or a later file's events could make an
// earlier one's too late to correlate.
func replayDemo(ctx context.Context, base, key string, drained func(context.Context) error) (total, sources int, err error) {
	names, err := fs.Glob(content.Demo, "demo/*")
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(names)
	for _, n := range names {
		parts := strings.Split(path.Base(n), ".")
		if len(parts) != 3 {
			continue
		}
		data, err := content.Demo.ReadFile(n)
		if err != nil {
			return total, sources, err
		}
		ctype := map[string]string{"jsonl": "application/x-ndjson", "json": "application/json", "log": "text/plain"}[parts[2]]
		url := fmt.Sprintf("%s/api/v1/ingest?source=%s&format=%s", base, parts[0], parts[1])
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
		if err != nil {
			return total, sources, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		// The same key for the same sample on every run: a second demo on
		// one data directory stores nothing twice.
		sum := sha256.Sum256(data)
		req.Header.Set("Idempotency-Key", "vigil-demo:"+path.Base(n)+":"+hex.EncodeToString(sum[:12]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return total, sources, fmt.Errorf("replay %s: %w", n, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return total, sources, fmt.Errorf("replay %s: %s: %s", n, resp.Status, body)
		}
		var r struct {
			Accepted int `json:"accepted"`
		}
		_ = json.Unmarshal(body, &r)
		total += r.Accepted
		sources++
		if err := drained(ctx); err != nil {
			return total, sources, fmt.Errorf("replay %s: %w", n, err)
		}
	}
	return total, sources, nil
}

// waitDrained waits until the bus holds no batch the pipeline has not
// acknowledged (a batch is acknowledged once its events and signals are
// stored), on two reads 100 ms apart, since the stage feeds the correlator
// just after it acknowledges. It waits at most 15 seconds: past that the
// replay goes on, and only the order of the correlations' input is at risk.
func waitDrained(ctx context.Context, s *server) error {
	deadline := time.Now().Add(15 * time.Second)
	empty := 0
	for {
		if lag, err := s.bus.Lag(ctx); err == nil && lag == 0 {
			empty++
		} else {
			empty = 0
		}
		if empty == 2 || time.Now().After(deadline) {
			return nil
		}
		wait := 20 * time.Millisecond
		if empty == 1 {
			wait = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// waitForAlerts waits until the replayed batches have left the bus (stored,
// or dropped as already stored), the events are stored and the alert count
// is stable, for at most a few seconds.
func waitForAlerts(ctx context.Context, s *server, events int) ([]alert.Alert, error) {
	deadline := time.Now().Add(15 * time.Second)
	last := -1
	for {
		as, _, err := s.store.Alerts(ctx, demoWorkspace, store.AlertQuery{Limit: 1000})
		if err != nil {
			return nil, err
		}
		stored, err := storedRecords(ctx, s.store)
		if err != nil {
			return nil, err
		}
		lag, err := s.bus.Lag(ctx)
		if err != nil {
			lag = 1 // not known: rely on the deadline
		}
		if (lag == 0 && stored >= int64(events) && len(as) == last) || time.Now().After(deadline) {
			sort.SliceStable(as, func(i, j int) bool { return as[i].Severity > as[j].Severity })
			return as, nil
		}
		last = len(as)
		select {
		case <-ctx.Done():
			return as, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// alertGroup is the demo summary's line: the alerts of one rule, under
// the source ("name (format)") their evidence came from.
type alertGroup struct {
	source, severity, title, per string
	alerts, events               int
}

// alertSources names, for each alert's rule, the source of the alert's
// first evidence event as "name (format)", so that the summary reads one
// source at a time rather than six stories interleaved. A rule whose
// evidence cannot be read is left out (its line goes under no heading).
func alertSources(ctx context.Context, db store.Store, as []alert.Alert) map[string]string {
	out := map[string]string{}
	for _, a := range as {
		if _, done := out[a.Rule.ID]; done || len(a.Evidence) == 0 {
			continue
		}
		id, err := event.ParseID(a.Evidence[0].EventID)
		if err != nil {
			continue
		}
		if se, err := db.Event(ctx, demoWorkspace, id); err == nil {
			out[a.Rule.ID] = se.Source + " (" + se.Format + ")"
		}
	}
	return out
}

// groupAlerts folds the alerts of one rule into one line, so that six
// invalid-user alerts (one per user and address) read as one finding, not
// as six identical lines. Lines are sorted by their rule's source (from
// sources, by rule ID), then kept in the order the rules first appear.
func groupAlerts(as []alert.Alert, sources map[string]string) []alertGroup {
	var out []alertGroup
	at := map[string]int{}
	for _, a := range as {
		i, ok := at[a.Rule.ID]
		if !ok {
			i = len(out)
			at[a.Rule.ID] = i
			out = append(out, alertGroup{source: sources[a.Rule.ID], severity: a.Severity.String(), title: a.Rule.Title})
		}
		out[i].alerts++
		out[i].events += int(a.Count)
		if out[i].per == "" {
			var kinds []string
			for _, e := range a.Entities {
				if k := string(e.Type); !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
			out[i].per = strings.Join(kinds, ", ")
		}
	}
	for i := range out {
		if out[i].per == "" {
			out[i].per = "dedup key" // entity-less alerts of one rule
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].source < out[j].source })
	return out
}

// alertSpan is the range of whole days that holds the alerts' times.
func alertSpan(as []alert.Alert) (from, to time.Time, ok bool) {
	for _, a := range as {
		if !ok || a.FirstSeen.Before(from) {
			from = a.FirstSeen
		}
		if !ok || a.LastSeen.After(to) {
			to = a.LastSeen
		}
		ok = true
	}
	return from.UTC().Truncate(24 * time.Hour), to.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour), ok
}
