package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// newStoreCmd gathers the commands that work on a store as a whole.
func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Copy a SQLite store into PostgreSQL"}
	cp := &cobra.Command{
		Use:   "copy",
		Short: "Copy a SQLite store (a data dir's vigil.db) into an empty PostgreSQL store, all of it or nothing",
		Long: `Copy every table of a SQLite store into a PostgreSQL store, a workspace at a
time in batches (COPY), keeping ids, the alert and incident streams' sequences
and cursors, the correlation journals and state, users and sessions. The
target is the PostgreSQL store the store settings name (store-url,
store-url-file, store-password-file, store-schema), or --to. The copy is one
transaction: it commits whole, after checking every table's row count
against the source, or leaves the target as it was; after a failure run it
again. A target that holds rows is refused unless --replace.

Stop vigil serve on the SQLite store first: what it writes after the copy
starts is not copied.`,
		Args: cobra.NoArgs,
		RunE: runStoreCopy,
	}
	cp.Flags().String("from", "", "the SQLite store: a data dir (its vigil.db) or sqlite:FILE")
	cp.Flags().String("to", "", "PostgreSQL URL of the target (instead of the store-url setting)")
	cp.Flags().Bool("replace", false, "empty the target's tables first instead of refusing a target that holds rows")
	cp.Flags().Int("batch-rows", 2000, "rows a COPY sends at a time")
	addStoreFlags(cp)
	for _, name := range []string{"data-dir", "store-url", "store-url-file", "store-password-file", "store-schema"} {
		_ = cp.Flags().MarkHidden(name)
	}
	cmd.AddCommand(cp)
	return cmd
}

func runStoreCopy(cmd *cobra.Command, _ []string) error {
	from, _ := cmd.Flags().GetString("from")
	to, _ := cmd.Flags().GetString("to")
	replace, _ := cmd.Flags().GetBool("replace")
	batch, _ := cmd.Flags().GetInt("batch-rows")
	if from == "" {
		return errors.New("--from: name the SQLite store, a data dir or sqlite:FILE")
	}
	if batch < 1 {
		return fmt.Errorf("--batch-rows %d: want at least 1", batch)
	}
	path, err := sqlitePath(from)
	if err != nil {
		return err
	}
	flags := cmd.Flags()
	if flags.Changed("store") {
		if s, _ := flags.GetString("store"); s != storePostgres {
			return fmt.Errorf("--store %s: the copy's target is a PostgreSQL store (store postgres)", s)
		}
	}
	if err := flags.Set("store", storePostgres); err != nil {
		return err
	}
	if to != "" {
		if flags.Changed("store-url") || flags.Changed("store-url-file") {
			return errors.New("--to and store-url (or store-url-file): set one, not both")
		}
		if err := flags.Set("store-url", to); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(flags)
	if err != nil {
		return err
	}
	if cfg.storeURL == "" && os.Getenv("PGHOST") == "" {
		return errors.New("no target: give --to postgres://USER@HOST:5432/DB, or the store-url setting")
	}
	ctx := cmd.Context()

	// Opening the SQLite store brings its schema up to date, so that the
	// copy reads the layout it knows.
	src, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	if err := src.Close(); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer raw.Close()

	dst, err := openBackend(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer dst.Close()
	pg, ok := dst.(*postgres.DB)
	if !ok {
		return fmt.Errorf("the target store is not PostgreSQL")
	}

	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	start := time.Now()
	lastTable, lastShown := "", time.Time{}
	counts, err := pg.ImportSQLite(ctx, raw, postgres.ImportOptions{
		Replace: replace, BatchRows: batch, DecodeAlert: sqlite.AlertFromRow,
		// A line a table, and one a second within a long table.
		Progress: func(table, ws string, rows int64) {
			if table == lastTable && time.Since(lastShown) < time.Second {
				return
			}
			lastTable, lastShown = table, time.Now()
			where := ""
			if ws != "" {
				where = " (workspace " + ws + ")"
			}
			fmt.Fprintf(errOut, "copying %s%s: %d rows\n", table, where, rows)
		},
	})
	if errors.Is(err, postgres.ErrNotEmpty) {
		return fmt.Errorf("copy %s into PostgreSQL: %w; --replace empties it first", path, err)
	}
	if err != nil {
		return fmt.Errorf("copy %s into PostgreSQL: %w", path, err)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSOURCE\tTARGET")
	var total int64
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", c.Table, c.Source, c.Target)
		total += c.Target
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "copied %d rows of %d tables from %s in %s; every table's count checked; committed as one transaction\n",
		total, len(counts), path, time.Since(start).Round(time.Millisecond))
	return nil
}

// sqlitePath is the vigil.db that --from names: sqlite:FILE, or a data
// directory's.
func sqlitePath(from string) (string, error) {
	path, isFile := strings.CutPrefix(from, "sqlite:")
	if !isFile {
		path = filepath.Join(from, "vigil.db")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("--from %s: %w", from, err)
	}
	return path, nil
}
