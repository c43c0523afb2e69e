package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/feed"
	"github.com/vigil-sec/vigil/store"
)

func newIntelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "intel", Short: "Import, list, look up, export and delete threat-intelligence indicators"}
	cmd.AddCommand(newIntelImportCmd(), newIntelListCmd(), newIntelLookupCmd(), newIntelExportCmd(), newIntelDeleteCmd())
	return cmd
}

// openIntelStore opens the data directory's store and names the workspace
// an intel command works on.
func openIntelStore(cmd *cobra.Command) (backend, string, error) {
	db, err := openStore(cmd, false)
	if err != nil {
		return nil, "", err
	}
	ws, err := intelWorkspace(cmd, db)
	if err != nil {
		db.Close()
		return nil, "", err
	}
	return db, ws, nil
}

// intelManager is the feed manager of a command: the config file's feed
// settings over the store, publishing to sets (nil: none).
func intelManager(cmd *cobra.Command, db backend, sets *feed.Sets) (*feed.Manager, error) {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return nil, err
	}
	return newFeedManager(cfg, db, sets, nil, nil)
}

// intelWorkspace is --workspace, or the store's only workspace.
func intelWorkspace(cmd *cobra.Command, db backend) (string, error) {
	if ws, _ := cmd.Flags().GetString("workspace"); ws != "" {
		if _, err := db.Workspace(cmd.Context(), ws); err != nil {
			return "", err
		}
		return ws, nil
	}
	all, err := db.Workspaces(cmd.Context())
	if err != nil {
		return "", err
	}
	if len(all) != 1 {
		return "", fmt.Errorf("--workspace: the store has %d workspaces; name one", len(all))
	}
	return all[0].Name, nil
}

func newIntelImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE|URL",
		Short: "Import a feed document into a workspace's feed",
		Long: `Import a feed document (a file, or an http or https URL; gzip is read as
such) into a feed of a workspace, replacing the indicators the feed held.
Prints how many indicators the feed holds, and each entry that could not be
read with its position (line, object) on standard error; the others are
imported. A feed imported so keeps its source: vigil serve loads its
indicators at start, and POST /api/v1/intel/feeds/{name}/refresh reads it
again. Audited as intel.import.

` + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, _ := cmd.Flags().GetString("format")
			name, _ := cmd.Flags().GetString("feed")
			threat, _ := cmd.Flags().GetString("threat-type")
			conf, _ := cmd.Flags().GetInt("confidence")
			tlp, _ := cmd.Flags().GetString("tlp")
			allow, _ := cmd.Flags().GetBool("allow-rejected")
			src := args[0]
			if u, err := url.Parse(src); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				if _, err := os.Stat(src); err != nil {
					return fmt.Errorf("%s: %w", src, unwrapPath(err))
				}
				if abs, err := filepath.Abs(src); err == nil {
					src = abs // a server reads it again from its own directory
				}
			}
			db, ws, err := openIntelStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := intelManager(cmd, db, nil)
			if err != nil {
				return err
			}
			res, err := m.Import(cmd.Context(), feed.Spec{Feed: store.Feed{
				Workspace: ws, Name: name, Format: format, Source: src, ThreatType: threat, Confidence: conf, TLP: tlp, Enabled: true,
			}})
			printProblems(cmd.ErrOrStderr(), args[0], res)
			if err != nil {
				return err
			}
			_ = db.Audit(cmd.Context(), store.AuditEntry{Workspace: ws, Time: time.Now().UTC(), Actor: "cli", Action: "intel.import",
				Target: "feed:" + name, Detail: fmt.Sprintf("%d indicators, %d entries refused, from %s", res.Indicators, res.ProblemCount, args[0])})
			fmt.Fprintf(cmd.OutOrStdout(), "feed %s (workspace %s): %d indicators", name, ws, res.Indicators)
			if res.ProblemCount > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; %s refused", count(res.ProblemCount, "entry", "entries"))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			if res.ProblemCount > 0 && !allow {
				return exitError{exitRejected}
			}
			return nil
		},
	}
	cmd.Flags().String("format", "", "the document's format: "+strings.Join(intelFormats().Names(), ", ")+" (required)")
	cmd.Flags().String("feed", "", "the feed to import into, made when absent (required)")
	cmd.Flags().String("workspace", "", "workspace of the feed; the store's only workspace when empty")
	cmd.Flags().String("threat-type", "", "threat type of the indicators that carry none (botnet, c2, malware, phishing, scanner, tor_exit, spam…)")
	cmd.Flags().Int("confidence", 0, "confidence (0–100) of the indicators that carry none")
	cmd.Flags().String("tlp", "", "TLP of the indicators that carry none: clear, green, amber, amber+strict, red")
	cmd.Flags().Bool("allow-rejected", false, "exit 0 rather than 2 when entries were refused")
	_ = cmd.MarkFlagRequired("format")
	_ = cmd.MarkFlagRequired("feed")
	addStoreFlags(cmd)
	return cmd
}

// printProblems names the entries an import refused, as file:where: reason.
func printProblems(w io.Writer, src string, res feed.Result) {
	for _, p := range res.Problems {
		fmt.Fprintf(w, "%s: %s: %s\n", src, p.Where, p.Reason)
	}
	if more := res.ProblemCount - len(res.Problems); more > 0 {
		fmt.Fprintf(w, "%s: %s more refused\n", src, count(more, "entry", "entries"))
	}
}

func newIntelListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List feeds with their indicator counts and status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			feeds, err := db.Feeds(cmd.Context(), ws)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WORKSPACE\tFEED\tFORMAT\tINDICATORS\tLAST SUCCESS\tPROBLEMS\tINTERVAL\tLAST ERROR\tSOURCE")
			for _, f := range feeds {
				success, interval, lastErr := "never", "-", "-"
				if f.LastSuccess != nil {
					success = f.LastSuccess.Format(time.RFC3339)
				}
				if f.Interval > 0 {
					interval = f.Interval.String()
				}
				if f.LastError != "" {
					lastErr = f.LastError
				}
				src := f.Source
				if u, err := url.Parse(src); err == nil && u.User != nil {
					src = u.Redacted()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", f.Workspace, f.Name, f.Format, f.Indicators, success, f.ProblemCount, interval, lastErr, src)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().String("workspace", "", "only this workspace's feeds; every workspace's when empty")
	addStoreFlags(cmd)
	return cmd
}

func newIntelLookupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lookup VALUE",
		Short: "Show the indicators a value matches (an address inside a range, a subdomain…)",
		Long: `Show the live indicators of a workspace that VALUE matches, as event
matching finds them: an address matches its own indicators and those of the
CIDR ranges holding it, a domain those of its parent domains. VALUE is an
IP address or range, a domain, a URL, an e-mail address, an MD5, SHA-1 or
SHA-256 hash, or a user agent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, ws, err := openIntelStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := intelManager(cmd, db, &feed.Sets{New: newIntelSet})
			if err != nil {
				return err
			}
			kind, v, inds, err := m.Lookup(cmd.Context(), ws, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s (%s): %s in workspace %s\n", v, kind, count(len(inds), "indicator", "indicators"), ws)
			if len(inds) == 0 {
				return nil
			}
			sort.Slice(inds, func(i, j int) bool {
				if inds[i].Feed != inds[j].Feed {
					return inds[i].Feed < inds[j].Feed
				}
				return inds[i].Value < inds[j].Value
			})
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FEED\tKIND\tVALUE\tTHREAT TYPE\tTHREAT\tCONFIDENCE\tVALID UNTIL")
			for _, in := range inds {
				until, threat := "-", "-"
				if !in.ValidUntil.IsZero() {
					until = in.ValidUntil.Format(time.RFC3339)
				}
				if in.Threat != "" {
					threat = in.Threat
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", in.Feed, in.Kind, in.Value, in.ThreatType, threat, in.Confidence, until)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().String("workspace", "", "workspace to look in; the store's only workspace when empty")
	addStoreFlags(cmd)
	return cmd
}

func newIntelExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a workspace's indicators (one feed's, or all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, _ := cmd.Flags().GetString("feed")
			format, _ := cmd.Flags().GetString("format")
			outPath, _ := cmd.Flags().GetString("output")
			write, ok := intelExporters[format]
			if !ok {
				return fmt.Errorf("--format %q: want one of %s", format, strings.Join(exportFormats(), ", "))
			}
			db, ws, err := openIntelStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			if name != "" {
				if _, err := db.Feed(cmd.Context(), ws, name); err != nil {
					return fmt.Errorf("--feed: %w", err)
				}
			}
			inds, err := allIndicators(cmd.Context(), db, ws, name)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if outPath != "" && outPath != "-" {
				if f, err = os.Create(outPath); err != nil {
					return fmt.Errorf("-o: %w", err)
				}
				w = f
			}
			err = write(w, inds)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if f != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s written to %s\n", count(len(inds), "indicator", "indicators"), outPath)
			}
			return nil
		},
	}
	cmd.Flags().String("feed", "", "the feed to export; every feed of the workspace when empty")
	cmd.Flags().String("workspace", "", "workspace of the feed; the store's only workspace when empty")
	cmd.Flags().String("format", defaultExportFormat, "output format: "+strings.Join(exportFormats(), ", "))
	cmd.Flags().StringP("output", "o", "", "file to write; standard output when empty")
	addStoreFlags(cmd)
	return cmd
}

func newIntelDeleteCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a feed and its indicators",
		Long: `Delete a feed of a workspace and its indicators from the store (a feed
removed from the config file stays in the store, and matches, until it is
deleted). A running server stops matching them at its next start; a feed
still in its config file comes back then. Audited as intel.delete.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, ws, err := openIntelStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			f, err := db.Feed(cmd.Context(), ws, args[0])
			if err != nil {
				return err
			}
			if err := db.DeleteFeed(cmd.Context(), ws, args[0]); err != nil {
				return err
			}
			_ = db.Audit(cmd.Context(), store.AuditEntry{Workspace: ws, Time: time.Now().UTC(), Actor: "cli", Action: "intel.delete",
				Target: "feed:" + args[0], Detail: fmt.Sprintf("%d indicators", f.Indicators)})
			fmt.Fprintf(cmd.OutOrStdout(), "feed %s (workspace %s) deleted with its %s\n", args[0], ws, count(f.Indicators, "indicator", "indicators"))
			return nil
		},
	}
	cmd.Flags().String("workspace", "", "workspace of the feed; the store's only workspace when empty")
	addStoreFlags(cmd)
	return cmd
}

func exportFormats() []string {
	var out []string
	for n := range intelExporters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// allIndicators reads a workspace's indicators, of one feed or all.
func allIndicators(ctx context.Context, db store.Intel, ws, name string) ([]intel.Indicator, error) {
	var out []intel.Indicator
	q := store.IndicatorQuery{Feed: name, Limit: 10000}
	for {
		page, next, err := db.Indicators(ctx, ws, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.Cursor = next
	}
}
