package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// openStore opens the store the settings name: that of the data dir
// named by --data-dir (or VIGIL_DATA_DIR, or the config file), or the
// PostgreSQL database of store-url. The CLI administers the same database
// a running server uses (SQLite in WAL mode allows both). Only create
// (workspaces create) makes a data dir and database that are not there:
// elsewhere a mistyped --data-dir would show an empty, new store.
func openStore(cmd *cobra.Command, create bool) (backend, error) {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.DataDir, "vigil.db")
	if !create && cfg.Store == storeSQLite {
		const hint = "run `vigil workspaces create NAME` or `vigil serve` first, or name the data directory with --data-dir"
		if _, err := os.Stat(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("data directory %s: %w (%s)", cfg.DataDir, unwrapPath(err), hint)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("data directory %s holds no vigil.db: %w (%s)", cfg.DataDir, unwrapPath(err), hint)
		}
	}
	if create && cfg.Store == storePostgres {
		// The data dir still holds what is not in the database (rule
		// packs, the embedded bus): made here as SQLite's open makes it.
		if err := makePrivateDir(cfg.DataDir, func(string, ...any) {}); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
		}
	}
	return openBackend(cmd.Context(), cfg, nil)
}

// unwrapPath drops the path and operation of an *fs.PathError when the
// message names the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// addStoreFlags gives an admin command the settings that locate the data.
func addStoreFlags(cmd *cobra.Command) {
	addSettingFlags(cmd.Flags())
	// Only data-dir and config are shown; the store-* settings matter too
	// and work as flags, but are mostly set in the config file or the
	// environment (docs/cli.md#the-data-directory).
	for _, s := range settings {
		if s.name != "data-dir" {
			_ = cmd.Flags().MarkHidden(s.name)
		}
	}
}

func newWorkspacesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workspaces", Short: "Create and list workspaces (tenants), change their tier"}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tier, _ := cmd.Flags().GetString("tier")
			db, err := openStore(cmd, true)
			if err != nil {
				return err
			}
			defer db.Close()
			w, err := db.CreateWorkspace(cmd.Context(), args[0], tier)
			if err != nil {
				return err
			}
			_ = db.Audit(cmd.Context(), store.AuditEntry{Workspace: w.Name, Time: time.Now().UTC(), Actor: "cli", Action: "workspace.create", Target: w.Name})
			fmt.Fprintf(cmd.OutOrStdout(), "workspace %s created (tier %s)\n", w.Name, w.Tier)
			return nil
		},
	}
	create.Flags().String("tier", tenant.TierStandard, "tier: free (signature rules only) or standard (adds correlations)")
	addStoreFlags(create)
	list := &cobra.Command{
		Use:   "list",
		Short: "List workspaces",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			ws, err := db.Workspaces(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTIER\tCREATED")
			for _, w := range ws {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", w.Name, w.Tier, w.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	addStoreFlags(list)
	setTier := &cobra.Command{
		Use:   "set-tier NAME TIER",
		Short: "Change a workspace's tier: free or standard",
		Long: `Change a workspace's tier: free runs signature rules; standard adds
correlations (stateful detections). The change is audited (workspace.tier,
actor cli); a running server applies it within 10 seconds.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			old, err := db.SetWorkspaceTier(cmd.Context(), args[0], args[1], "cli")
			if err != nil {
				return err
			}
			if old.Tier == args[1] {
				fmt.Fprintf(cmd.OutOrStdout(), "workspace %s is already at tier %s\n", old.Name, old.Tier)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "workspace %s: tier %s -> %s\n", old.Name, old.Tier, args[1])
			return nil
		},
	}
	addStoreFlags(setTier)
	cmd.AddCommand(create, list, setTier)
	return cmd
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key (the secret is shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			scope, _ := cmd.Flags().GetString("scope")
			name, _ := cmd.Flags().GetString("name")
			asJSON, _ := cmd.Flags().GetBool("json")
			var limits api.KeyLimits
			if v, _ := cmd.Flags().GetString("expires"); v != "" {
				at, err := expiryTime(v, time.Now())
				if err != nil {
					return err
				}
				limits.Expires = &at
			}
			limits.Allow, _ = cmd.Flags().GetStringSlice("allow")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			secret, k, err := createLimitedKey(cmd.Context(), db, ws, scope, name, "cli", limits)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"id": k.ID, "name": k.Name, "workspace": k.Workspace, "scope": k.Scope, "secret": secret})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s (workspace %s, scope %s)\n%s\nThe secret is shown only now; vigil keeps its hash.\n", k.ID, k.Workspace, k.Scope, secret)
			return nil
		},
	}
	create.Flags().String("workspace", "", "workspace of the key (required)")
	create.Flags().String("scope", tenant.ScopeRead, "scope: ingest, read, responder (works alerts and incidents), admin, bouncer (block decisions only, for firewalls and proxies), or metrics (GET /metrics only, when metrics-key-required)")
	create.Flags().String("name", "", "a name to recognize the key by")
	create.Flags().Bool("json", false, "print the key as JSON")
	create.Flags().String("expires", "", "when the key stops working: a duration from now (720h) or an RFC 3339 time; never when empty")
	create.Flags().StringSlice("allow", nil, "addresses (CIDRs) the key may be used from (repeatable, comma-separated); anywhere when empty")
	_ = create.MarkFlagRequired("workspace")
	addStoreFlags(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List a workspace's keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			keys, err := db.Keys(cmd.Context(), ws)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPREFIX\tSCOPE\tNAME\tCREATED\tREVOKED\tEXPIRES\tALLOW")
			for _, k := range keys {
				rev, exp, allow := "-", "-", "-"
				if k.Revoked != nil {
					rev = k.Revoked.Format(time.RFC3339)
				}
				if k.Expires != nil {
					exp = k.Expires.Format(time.RFC3339)
				}
				if len(k.Allow) > 0 {
					allow = strings.Join(k.Allow, ",")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Scope, k.Name, k.Created.Format(time.RFC3339), rev, exp, allow)
			}
			return tw.Flush()
		},
	}
	list.Flags().String("workspace", "", "workspace (required)")
	_ = list.MarkFlagRequired("workspace")
	addStoreFlags(list)

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			now := time.Now().UTC()
			if err := db.RevokeKey(cmd.Context(), ws, args[0], now); err != nil {
				return err
			}
			_ = db.Audit(cmd.Context(), store.AuditEntry{Workspace: ws, Time: now, Actor: "cli", Action: "key.revoke", Target: args[0]})
			fmt.Fprintf(cmd.OutOrStdout(), "key %s revoked\n", args[0])
			return nil
		},
	}
	revoke.Flags().String("workspace", "", "workspace of the key (required)")
	_ = revoke.MarkFlagRequired("workspace")
	addStoreFlags(revoke)
	rotate := &cobra.Command{
		Use:   "rotate ID",
		Short: "Issue a successor of a key; the old one works for the overlap, then expires",
		Long: `Issue a successor of a key: a new key with the same scope, name and
allow-list, whose secret is shown once. The old key keeps working for
--overlap (default 24h), then expires. Audited as key.rotate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			overlap, _ := cmd.Flags().GetDuration("overlap")
			asJSON, _ := cmd.Flags().GetBool("json")
			if overlap < 0 {
				return fmt.Errorf("--overlap %v: want 0 or more", overlap)
			}
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			secret, k, ends, err := rotateKey(cmd.Context(), db, ws, args[0], overlap, "cli")
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"id": k.ID, "name": k.Name, "workspace": k.Workspace,
					"scope": k.Scope, "secret": secret, "replaces": args[0], "old_expires": ends.Format(time.RFC3339)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s replaces %s (workspace %s, scope %s); %s expires %s\n%s\nThe secret is shown only now; vigil keeps its hash.\n",
				k.ID, args[0], k.Workspace, k.Scope, args[0], ends.Format(time.RFC3339), secret)
			return nil
		},
	}
	rotate.Flags().String("workspace", "", "workspace of the key (required)")
	rotate.Flags().Duration("overlap", api.DefaultRotateOverlap, "how long the old key keeps working beside its successor")
	rotate.Flags().Bool("json", false, "print the successor as JSON")
	_ = rotate.MarkFlagRequired("workspace")
	addStoreFlags(rotate)
	cmd.AddCommand(create, list, revoke, rotate)
	return cmd
}

// expiryTime reads --expires: a duration from now or an RFC 3339 time.
func expiryTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--expires %q: want a duration (720h) or an RFC 3339 time (2027-01-31T00:00:00Z)", v)
	}
	return t.UTC(), nil
}

// rotateKey stores and audits a successor of key id; the old key expires
// after overlap.
func rotateKey(ctx context.Context, db store.Store, ws, id string, overlap time.Duration, actor string) (string, tenant.APIKey, time.Time, error) {
	keys, err := db.Keys(ctx, ws)
	if err != nil {
		return "", tenant.APIKey{}, time.Time{}, err
	}
	now := time.Now().UTC()
	i := slices.IndexFunc(keys, func(k tenant.APIKey) bool { return k.ID == id })
	switch {
	case i < 0:
		return "", tenant.APIKey{}, time.Time{}, fmt.Errorf("key %s in workspace %s: %w", id, ws, store.ErrNotFound)
	case keys[i].Revoked != nil || keys[i].Expired(now):
		return "", tenant.APIKey{}, time.Time{}, fmt.Errorf("key %s is revoked or expired: create a new key instead", id)
	}
	secret, next, err := api.Successor(keys[i], now)
	if err != nil {
		return "", tenant.APIKey{}, time.Time{}, err
	}
	ends := now.Add(overlap)
	if err := db.RotateKey(ctx, ws, id, next, ends); err != nil {
		return "", tenant.APIKey{}, time.Time{}, err
	}
	_ = db.Audit(ctx, store.AuditEntry{Workspace: ws, Time: now, Actor: actor, Action: "key.rotate", Target: id,
		Detail: "successor " + next.ID + "; the old key expires " + ends.Format(time.RFC3339)})
	return secret, next, ends, nil
}

// createKey makes, stores and audits a key.
func createKey(ctx context.Context, db store.Store, ws, scope, name, actor string) (string, tenant.APIKey, error) {
	return createLimitedKey(ctx, db, ws, scope, name, actor, api.KeyLimits{})
}

// createLimitedKey makes, stores and audits a key with an expiry or an
// allow-list.
func createLimitedKey(ctx context.Context, db store.Store, ws, scope, name, actor string, limits api.KeyLimits) (string, tenant.APIKey, error) {
	if _, err := db.Workspace(ctx, ws); err != nil {
		// The store's error names the workspace; add how to make it.
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("%w (create it with: vigil workspaces create %s)", err, ws)
		}
		return "", tenant.APIKey{}, err
	}
	now := time.Now().UTC()
	secret, k, err := api.NewKey(ws, scope, name, now)
	if err == nil {
		err = limits.Apply(&k, now)
	}
	if err != nil {
		return "", tenant.APIKey{}, err
	}
	if err := db.CreateKey(ctx, k); err != nil {
		return "", tenant.APIKey{}, err
	}
	_ = db.Audit(ctx, store.AuditEntry{Workspace: ws, Time: now, Actor: actor, Action: "key.create", Target: k.ID, Detail: "scope " + scope})
	return secret, k, nil
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export the audit log"}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write a workspace's audit log as NDJSON, newest first",
		Long: `Write a workspace's audit log to standard output, one JSON object a line,
newest first: id, workspace, time, actor, action, target, detail, count
(repeats within an interval share a line) and last (the time of the last
repeat). --workspace "" exports the refused authentications that named no
workspace.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			enc := json.NewEncoder(cmd.OutOrStdout())
			q := store.AuditQuery{Limit: 1000}
			for {
				entries, next, err := db.AuditLog(cmd.Context(), ws, q)
				if err != nil {
					return err
				}
				for _, e := range entries {
					if err := enc.Encode(e); err != nil {
						return fmt.Errorf("write the audit log: %w", err)
					}
				}
				if next == "" {
					return nil
				}
				q.Cursor = next
			}
		},
	}
	export.Flags().String("workspace", "", "workspace (required; \"\" for refusals that named none)")
	_ = export.MarkFlagRequired("workspace")
	addStoreFlags(export)
	cmd.AddCommand(export)
	return cmd
}
