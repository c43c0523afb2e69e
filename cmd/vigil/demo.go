package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/store"
)

const demoWorkspace = "demo"

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve vigil and replay a built-in multi-source sample, so you see alerts at once",
		Long: `Start vigil as "vigil serve" does, create the workspace "demo" with an admin
key, and replay a small built-in sample (Windows events, an sshd auth log and
AWS CloudTrail records) through the HTTP ingest API. It prints the key and a
curl line to read the alerts, then keeps serving until interrupted.

Without --data-dir the demo runs in a fresh temporary directory, removed at
exit.`,
		Args: cobra.NoArgs,
		RunE: runDemo,
	}
	addSettingFlags(cmd.Flags())
	return cmd
}

func runDemo(cmd *cobra.Command, _ []string) error {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	if !cmd.Flags().Changed("data-dir") && os.Getenv("VIGIL_DATA_DIR") == "" {
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
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

	if _, err := s.store.CreateWorkspace(ctx, demoWorkspace, store.TierStandard); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("demo workspace: %w", err)
	}
	secret, _, err := createKey(ctx, s.store, demoWorkspace, store.ScopeAdmin, "demo", "demo")
	if err != nil {
		return err
	}
	sent, err := replayDemo(ctx, s.URL(), secret)
	if err != nil {
		return err
	}
	alerts, err := waitForAlerts(ctx, s.store, sent)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nvigil demo is running at %s (data in %s)\n\n", s.URL(), cfg.DataDir)
	fmt.Fprintf(out, "Replayed %d records from 3 sources; %d alerts so far:\n", sent, len(alerts))
	for _, a := range alerts {
		fmt.Fprintf(out, "  %-8s %3d× %s\n", a.Severity, a.Count, a.Rule.Title)
	}
	fmt.Fprintf(out, "\nAdmin key of workspace %q (shown once):\n  %s\n\nRead the alerts:\n  curl -s -H 'Authorization: Bearer %s' %s/api/v1/alerts\n\n"+
		"OpenAPI document: %s/api/v1/openapi.json — press Ctrl-C to stop.\n", demoWorkspace, secret, secret, s.URL(), s.URL())
	<-ctx.Done()
	return nil
}

// replayDemo posts every built-in sample file to the ingest API. A file is
// named <source>.<format>.<ext>; the extension picks the content type.
func replayDemo(ctx context.Context, base, key string) (int, error) {
	names, err := fs.Glob(content.Demo, "demo/*")
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	total := 0
	for _, n := range names {
		parts := strings.Split(path.Base(n), ".")
		if len(parts) != 3 {
			continue
		}
		data, err := content.Demo.ReadFile(n)
		if err != nil {
			return total, err
		}
		ctype := map[string]string{"jsonl": "application/x-ndjson", "json": "application/json", "log": "text/plain"}[parts[2]]
		url := fmt.Sprintf("%s/api/v1/ingest?source=%s&format=%s", base, parts[0], parts[1])
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
		if err != nil {
			return total, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return total, fmt.Errorf("replay %s: %w", n, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return total, fmt.Errorf("replay %s: %s: %s", n, resp.Status, body)
		}
		var r struct {
			Accepted int `json:"accepted"`
		}
		_ = json.Unmarshal(body, &r)
		total += r.Accepted
	}
	return total, nil
}

// waitForAlerts waits until the replayed events are stored and the alert
// count is stable, for at most a few seconds.
func waitForAlerts(ctx context.Context, db store.Store, events int) ([]alert.Alert, error) {
	deadline := time.Now().Add(15 * time.Second)
	last := -1
	for {
		as, _, err := db.Alerts(ctx, demoWorkspace, store.AlertQuery{Limit: 1000})
		if err != nil {
			return nil, err
		}
		srcs, err := db.Sources(ctx, demoWorkspace)
		if err != nil {
			return nil, err
		}
		var stored int64
		for _, s := range srcs {
			stored += s.Events + s.Rejected
		}
		if (stored >= int64(events) && len(as) == last) || time.Now().After(deadline) {
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
