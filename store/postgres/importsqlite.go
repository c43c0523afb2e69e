package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// ImportOptions are the choices of ImportSQLite.
type ImportOptions struct {
	// Replace empties the target's tables first; without it a target
	// holding any row is refused.
	Replace bool
	// BatchRows is how many rows go to PostgreSQL in one COPY at most
	// (default 2000), fewer when they hold more than 32 MiB: what the copy
	// holds in memory at a time.
	BatchRows int
	// DecodeAlert reads the alert a row of SQLite's alerts table stands
	// for (sqlite.AlertFromRow): SQLite keeps part of an alert in columns,
	// PostgreSQL the whole of it in its document. Required.
	DecodeAlert func(row map[string]any) (alert.Alert, error)
	// Progress, when set, hears of each batch copied: the table, the
	// workspace ("" for a table of the whole store) and the rows of the
	// table copied so far.
	Progress func(table, workspace string, rows int64)
}

// TableCount is what ImportSQLite copied of one table: the rows the source
// had to give and the rows the target holds at the end, checked equal
// before the copy commits.
type TableCount struct {
	Table          string
	Source, Target int64
}

// ErrNotEmpty is ImportSQLite's refusal of a target that holds rows.
var ErrNotEmpty = errors.New("the target store is not empty")

// importTable is how one PostgreSQL table is filled from the SQLite store's
// layout (store/sqlite's migrations), by column name, each value converted
// to the target column's type. Columns that PostgreSQL keeps and SQLite
// does not are derived (derived, made by row); SQLite's columns that
// PostgreSQL does without are listed in dropped. A column in neither list
// that one side lacks stops the copy: a schema changed on one side only.
type importTable struct {
	name string
	// from selects the source rows (with "?" the workspace when perWS);
	// empty: the SQLite table of the same name, the target's columns.
	from string
	// filtered: from leaves rows out on purpose, and the source's count
	// is what it selects; else the count of the SQLite table.
	filtered bool
	perWS    bool
	derived  []string
	dropped  []string
	// row turns the source values (by column) into the target's values
	// (by column) when plain conversion is not enough.
	row func(im *importer, src map[string]any) (map[string]any, error)
}

// importTables is every table of migrations 1 to 5, in copy order. The
// tables not copied are in importNotCopied (target) and sqliteNotCopied
// (source).
var importTables = []importTable{
	{name: "workspaces"},
	{name: "api_keys", perWS: true},
	{name: "sources", perWS: true},
	{name: "committed_batches"},
	// event_ids (which block holds an event) has no SQLite table: it is
	// read out of the blocks as they are copied.
	{name: "event_blocks", perWS: true, dropped: []string{"min_id", "max_id"}, row: (*importer).eventBlock},
	{name: "event_entities", perWS: true, derived: []string{"received"}, filtered: true,
		from: `SELECT e.workspace, e.folded, e.block_id, b.received FROM event_entities e
			JOIN event_blocks b ON b.id = e.block_id WHERE e.workspace = ?`},
	{name: "alerts", perWS: true, derived: []string{"reason", "origin_city"}, dropped: []string{"evidence", "evidence_n"}, row: (*importer).alert,
		from: `SELECT * FROM alerts WHERE workspace = ?`},
	{name: "alert_entities", perWS: true},
	{name: "alert_evidence", perWS: true},
	{name: "alert_sources", perWS: true},
	{name: "audit_log", perWS: true},
	{name: "quarantine", perWS: true},
	{name: "users"},
	{name: "user_roles", perWS: true},
	{name: "sessions", perWS: true},
	{name: "signin_states"},
	{name: "alert_changes", perWS: true},
	{name: "incident_changes", perWS: true},
	{name: "stream_cursors"},
	{name: "incidents", perWS: true, derived: []string{"title_fold", "tags", "rule_ids"}, dropped: []string{"title"}, row: (*importer).incident},
	{name: "incident_alerts", perWS: true},
	// fold is the entity's value as the incident's document has it, ASCII
	// letters lowered (incidentWork.put).
	{name: "incident_entities", perWS: true, derived: []string{"fold"}, row: (*importer).incidentEntity,
		from: `SELECT e.workspace, e.value, e.type, e.incident_id, i.doc FROM incident_entities e
			LEFT JOIN incidents i ON i.workspace = e.workspace AND i.id = e.incident_id
			WHERE e.workspace = ? ORDER BY e.incident_id`},
	{name: "incident_timeline", perWS: true},
	{name: "incident_task_templates", perWS: true},
	{name: "assets", perWS: true},
	{name: "baseline_models", perWS: true},
	{name: "baseline_values", perWS: true},
	{name: "correlation_state"},
	{name: "correlation_journal"},
	{name: "correlation_partitioning"},
	{name: "correlation_part_state"},
	{name: "correlation_part_journal"},
	{name: "decisions", perWS: true},
	{name: "decision_changes", perWS: true},
	{name: "decision_bouncers", perWS: true},
	// A feed's indicators are those of its current generation; the
	// others are a refresh under way or left by one that failed.
	{name: "intel_feeds", perWS: true, dropped: []string{"gen", "next_gen"}},
	{name: "intel_indicators", perWS: true, dropped: []string{"gen"}, filtered: true,
		from: `SELECT i.id, i.workspace, i.feed, i.kind, i.value, i.valid_until, i.revoked, i.doc FROM intel_indicators i
			JOIN intel_feeds f ON f.workspace = i.workspace AND f.name = i.feed AND f.gen = i.gen
			WHERE i.workspace = ? ORDER BY i.id`},
	{name: "disabled_rules", perWS: true},
	{name: "suppressions", perWS: true},
	{name: "rule_noise", perWS: true},
}

// importNotCopied are the target's tables the copy leaves: the schema's
// version, and the detect workers' leases (held by processes of the old
// installation, if any, and on the database's clock).
var importNotCopied = []string{"schema_migrations", "leases", "event_ids", "alert_databases", "threat_days", "threat_hours"}

// sqliteNotCopied are SQLite's own tables: its schema version and
// counters, and the alerts' indexes (the threat pane's counts by day and
// hour, the databases view), which the import computes afresh from the
// copied alerts and events, as PostgreSQL's migration 7 does (deriveIndexes).
var sqliteNotCopied = []string{"schema_migrations", "meta", "leases", "alert_databases", "threat_days", "threat_hours"}

// ImportSQLite copies a SQLite store (src, opened on the file store/sqlite
// wrote, its schema up to date) into db in one transaction: all of it or,
// on any error, nothing. Ids, the streams' sequences and cursors, the
// correlation journals and states, users and sessions keep their values.
// It stops before copying a row when either side has a table or column it
// does not know, and before committing when a table's rows in the target
// differ in number from the source's.
func (db *DB) ImportSQLite(ctx context.Context, src *sql.DB, opts ImportOptions) ([]TableCount, error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = 2000
	}
	if opts.DecodeAlert == nil {
		return nil, errors.New("import: ImportOptions.DecodeAlert is not set")
	}
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("import: read the SQLite store: %w", err)
	}
	defer func() { _ = stx.Rollback() }()
	var counts []TableCount
	err = db.tx(ctx, "import from SQLite", func(tx pgx.Tx) error {
		im := &importer{db: db, ctx: ctx, src: stx, dst: tx, opts: opts, days: map[int64]bool{}}
		var err error
		counts, err = im.run()
		return err
	})
	if err != nil {
		return nil, err
	}
	db.forgetPartitions()
	return counts, nil
}

// importer is one ImportSQLite.
type importer struct {
	db   *DB
	ctx  context.Context
	src  *sql.Tx
	dst  pgx.Tx
	opts ImportOptions
	// days are the event partitions made so far.
	days map[int64]bool
	// eventIDs are the event_ids rows of the blocks of the batch at hand.
	eventIDs [][]any
	// lastIncident and entityFolds: the incident whose entities are being
	// copied and its entities' fold, by type and stored value.
	lastIncident string
	entityFolds  map[string]string
	// idsCopied counts the event_ids rows written.
	idsCopied int64
}

func (im *importer) run() ([]TableCount, error) {
	ctx := im.ctx
	targetCols, err := im.targetColumns()
	if err != nil {
		return nil, err
	}
	if err := im.checkTables(targetCols); err != nil {
		return nil, err
	}
	if err := im.emptyTarget(); err != nil {
		return nil, err
	}
	var counts []TableCount
	var blockEvents int64
	for _, t := range importTables {
		n, src, err := im.copyTable(t, targetCols[t.name])
		if err != nil {
			return nil, err
		}
		counts = append(counts, TableCount{Table: t.name, Source: src, Target: n})
		if t.name == "event_blocks" {
			if err := im.src.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM event_blocks`).Scan(&blockEvents); err != nil {
				return nil, fmt.Errorf("import: count the events of event_blocks: %w", err)
			}
			counts = append(counts, TableCount{Table: "event_ids", Source: blockEvents, Target: im.idsCopied})
		}
	}
	if err := im.sequences(); err != nil {
		return nil, err
	}
	if err := im.deriveIndexes(); err != nil {
		return nil, err
	}
	// The check: what the target holds now, against the source.
	for i, c := range counts {
		if err := im.dst.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{c.Table}.Sanitize()).Scan(&counts[i].Target); err != nil {
			return nil, fmt.Errorf("import: count %s: %w", c.Table, err)
		}
		if counts[i].Target != c.Source {
			return nil, fmt.Errorf("import: table %s: the source has %d rows, the target %d after the copy: nothing committed", c.Table, c.Source, counts[i].Target)
		}
	}
	return counts, nil
}

// deriveIndexes computes the alerts' indexes from the copied alerts and
// events, as migration 7 fills them for alerts stored before it: the
// threat pane's counts, and each alert's database server and database.
func (im *importer) deriveIndexes() error {
	if err := rebuildPaneCounts(im.ctx, im.dst); err != nil {
		return fmt.Errorf("import: count the threat pane's alerts: %w", err)
	}
	if err := fillAlertDatabases(im.ctx, im.dst, im.db); err != nil {
		return fmt.Errorf("import: the databases view: %w", err)
	}
	return nil
}

// targetColumns reads the target's tables (partitions aside) and their
// columns with their types.
func (im *importer) targetColumns() (map[string]map[string]string, error) {
	rows, err := im.dst.Query(im.ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN pg_class r ON r.relname = c.table_name
		JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname = c.table_schema
		WHERE c.table_schema = current_schema() AND r.relkind IN ('r', 'p') AND NOT r.relispartition`)
	if err != nil {
		return nil, fmt.Errorf("import: read the target's tables: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, fmt.Errorf("import: read the target's tables: %w", err)
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("import: read the target's tables: %w", err)
	}
	return out, nil
}

// checkTables stops the copy when either side has a table, or a copied
// table a column, that the copy does not know: copying the rest would
// leave that data behind without a word.
func (im *importer) checkTables(target map[string]map[string]string) error {
	known := map[string]bool{}
	for _, t := range importTables {
		known[t.name] = true
	}
	var problems []string
	for t := range target {
		if !known[t] && !slices.Contains(importNotCopied, t) {
			problems = append(problems, "the target has table "+t+", which the copy does not know")
		}
	}
	for _, t := range importTables {
		if target[t.name] == nil {
			problems = append(problems, "the target has no table "+t.name)
		}
	}
	rows, err := im.src.QueryContext(im.ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("import: read the source's tables: %w", err)
	}
	var srcTables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("import: read the source's tables: %w", err)
		}
		srcTables = append(srcTables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("import: read the source's tables: %w", err)
	}
	for _, name := range srcTables {
		if !known[name] && !slices.Contains(sqliteNotCopied, name) {
			problems = append(problems, "the source has table "+name+", which the copy does not know")
		}
	}
	for _, t := range importTables {
		if !slices.Contains(srcTables, t.name) {
			problems = append(problems, "the source has no table "+t.name)
			continue
		}
		srcCols, err := im.sourceColumns(t.name)
		if err != nil {
			return err
		}
		for c := range target[t.name] {
			if !srcCols[c] && !slices.Contains(t.derived, c) {
				problems = append(problems, fmt.Sprintf("table %s: the target's column %s has no source", t.name, c))
			}
		}
		for c := range srcCols {
			if _, ok := target[t.name][c]; !ok && !slices.Contains(t.dropped, c) {
				problems = append(problems, fmt.Sprintf("table %s: the source's column %s has no place in the target", t.name, c))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("import: the stores' schemas differ from what this vigil copies (a newer vigil on one side?); nothing copied: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (im *importer) sourceColumns(table string) (map[string]bool, error) {
	rows, err := im.src.QueryContext(im.ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("import: read the columns of source table %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("import: read the columns of source table %s: %w", table, err)
		}
		out[c] = true
	}
	return out, rows.Err()
}

// emptyTarget refuses a target holding rows, or empties it with Replace.
// It locks the tables against writers first (readers go on) until the copy
// commits, so that a vigil process started on the target too early cannot
// write between the check and the copy; partitions are made under their
// lock, taken first as ensurePartition takes it.
func (im *importer) emptyTarget() error {
	names := append([]string{"event_ids", "leases"}, tableNames()...)
	if _, err := im.dst.Exec(im.ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(partitionLock), im.db.schemaLockKey()); err != nil {
		return fmt.Errorf("import: lock the event partitions: %w", err)
	}
	quoted := make([]string, len(names))
	for i, t := range names {
		quoted[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := im.dst.Exec(im.ctx, `LOCK TABLE `+strings.Join(quoted, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("import: lock the target's tables: %w", err)
	}
	var full []string
	for _, t := range names {
		var has bool
		if err := im.dst.QueryRow(im.ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t}.Sanitize()+`)`).Scan(&has); err != nil {
			return fmt.Errorf("import: is table %s empty: %w", t, err)
		}
		if has {
			full = append(full, t)
		}
	}
	if len(full) == 0 {
		return nil
	}
	if !im.opts.Replace {
		return fmt.Errorf("import: %w (tables %s hold rows): nothing copied", ErrNotEmpty, strings.Join(full, ", "))
	}
	if _, err := im.dst.Exec(im.ctx, `TRUNCATE `+strings.Join(quoted, ", ")+` RESTART IDENTITY`); err != nil {
		return fmt.Errorf("import: empty the target: %w", err)
	}
	return nil
}

func tableNames() []string {
	out := make([]string, len(importTables))
	for i, t := range importTables {
		out[i] = t.name
	}
	return out
}

// copyTable copies t a workspace at a time (perWS) in batches of COPY,
// and returns the rows copied and the rows the source gave.
func (im *importer) copyTable(t importTable, types map[string]string) (copied, given int64, err error) {
	cols := make([]string, 0, len(types))
	for c := range types {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	query := t.from
	if query == "" {
		var srcCols []string
		for _, c := range cols {
			if !slices.Contains(t.derived, c) {
				srcCols = append(srcCols, `"`+c+`"`)
			}
		}
		query = `SELECT ` + strings.Join(srcCols, ", ") + ` FROM "` + t.name + `"`
		if t.perWS {
			query += ` WHERE workspace = ?`
		}
	}
	workspaces := []string{""}
	if t.perWS {
		if workspaces, err = im.workspacesOf(t.name); err != nil {
			return 0, 0, err
		}
	}
	for _, ws := range workspaces {
		var args []any
		if t.perWS {
			args = []any{ws}
		}
		n, err := im.copyRows(t, ws, cols, types, query, args, copied)
		copied += n
		if err != nil {
			return copied, 0, err
		}
	}
	// The source's count, apart from the rows read; a table whose query
	// leaves rows out counts what that query selects.
	given = copied
	if !t.filtered {
		if err := im.src.QueryRowContext(im.ctx, `SELECT count(*) FROM "`+t.name+`"`).Scan(&given); err != nil {
			return copied, 0, fmt.Errorf("import: count source table %s: %w", t.name, err)
		}
	}
	return copied, given, nil
}

// workspacesOf lists the workspaces of table's rows, workspaces that no
// longer exist included: the copy leaves no row behind.
func (im *importer) workspacesOf(table string) ([]string, error) {
	rows, err := im.src.QueryContext(im.ctx, `SELECT DISTINCT workspace FROM "`+table+`" ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("import: the workspaces of source table %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ws string
		if err := rows.Scan(&ws); err != nil {
			return nil, fmt.Errorf("import: the workspaces of source table %s: %w", table, err)
		}
		out = append(out, ws)
	}
	return out, rows.Err()
}

// maxBatchBytes bounds a batch by its values' bytes, whatever BatchRows
// says: event blocks are up to a megabyte or so each.
const maxBatchBytes = 32 << 20

// copyRows copies what query selects, in batches; before is the table's
// rows copied before these (for Progress).
func (im *importer) copyRows(t importTable, ws string, cols []string, types map[string]string, query string, args []any, before int64) (int64, error) {
	fail := func(err error) (int64, error) {
		if ws != "" {
			return 0, fmt.Errorf("import: table %s, workspace %s: %w", t.name, ws, err)
		}
		return 0, fmt.Errorf("import: table %s: %w", t.name, err)
	}
	rows, err := im.src.QueryContext(im.ctx, query, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	srcCols, err := rows.Columns()
	if err != nil {
		return fail(err)
	}
	vals := make([]any, len(srcCols))
	ptrs := make([]any, len(srcCols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var batch [][]any
	var n int64
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		batchBytes = 0
		if err := im.write(t.name, cols, batch); err != nil {
			return err
		}
		n += int64(len(batch))
		batch = batch[:0]
		if im.opts.Progress != nil {
			im.opts.Progress(t.name, ws, before+n)
		}
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fail(err)
		}
		src := make(map[string]any, len(srcCols))
		for i, c := range srcCols {
			src[c] = vals[i]
		}
		if t.row != nil {
			if src, err = t.row(im, src); err != nil {
				return fail(err)
			}
		}
		out := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(src[c], types[c])
			if err != nil {
				return fail(fmt.Errorf("column %s: %w", c, err))
			}
			out[i] = v
		}
		batch = append(batch, out)
		for _, v := range out {
			switch v := v.(type) {
			case []byte:
				batchBytes += len(v)
			case string:
				batchBytes += len(v)
			}
		}
		if len(batch) >= im.opts.BatchRows || batchBytes >= maxBatchBytes {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	return n, nil
}

// write COPYs rows into table, and the event_ids of the blocks among them;
// event rows get their day's partitions first.
func (im *importer) write(table string, cols []string, rows [][]any) error {
	if r := slices.Index(cols, "received"); r >= 0 && (table == "event_blocks" || table == "event_entities") {
		for _, row := range rows {
			if err := im.partition(dayOf(row[r].(int64))); err != nil {
				return err
			}
		}
	}
	if _, err := im.dst.CopyFrom(im.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if table == "event_blocks" && len(im.eventIDs) > 0 {
		if _, err := im.dst.CopyFrom(im.ctx, pgx.Identifier{"event_ids"}, []string{"workspace", "id", "block_id", "received"}, pgx.CopyFromRows(im.eventIDs)); err != nil {
			return fmt.Errorf("event_ids: %w", err)
		}
		im.idsCopied += int64(len(im.eventIDs))
		im.eventIDs = im.eventIDs[:0]
	}
	return nil
}

// partition makes the event partitions of a day, as ensurePartition does,
// in the copy's transaction (under the lock emptyTarget took).
func (im *importer) partition(day int64) error {
	if im.days[day] {
		return nil
	}
	for _, t := range eventTables {
		_, err := im.dst.Exec(im.ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%d) TO (%d)`,
			partitionName(t, day), t, day, day+dayNanos))
		if err != nil {
			return fmt.Errorf("make event partitions of %s: %w", fromNanos(day).Format("2006-01-02"), err)
		}
	}
	im.days[day] = true
	return nil
}

// sequences sets each sequence past the largest value the source gave, or
// SQLite's AUTOINCREMENT counter when larger (a purged change's seq is
// never given again): the streams' consumers' cursors stay good.
func (im *importer) sequences() error {
	counters := map[string]int64{}
	rows, err := im.src.QueryContext(im.ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return fmt.Errorf("import: read the source's sequences: %w", err)
	}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("import: read the source's sequences: %w", err)
		}
		counters[name] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("import: read the source's sequences: %w", err)
	}
	type serial struct{ table, column, seq string }
	var serials []serial
	srows, err := im.dst.Query(im.ctx, `SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')`)
	if err != nil {
		return fmt.Errorf("import: read the target's sequences: %w", err)
	}
	for srows.Next() {
		var s serial
		var seq *string
		if err := srows.Scan(&s.table, &s.column, &seq); err != nil {
			srows.Close()
			return fmt.Errorf("import: read the target's sequences: %w", err)
		}
		if seq != nil {
			s.seq = *seq
			serials = append(serials, s)
		}
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return fmt.Errorf("import: read the target's sequences: %w", err)
	}
	for _, s := range serials {
		var top int64
		if err := im.dst.QueryRow(im.ctx, fmt.Sprintf(`SELECT coalesce(max(%s), 0) FROM %s`,
			pgx.Identifier{s.column}.Sanitize(), pgx.Identifier{s.table}.Sanitize())).Scan(&top); err != nil {
			return fmt.Errorf("import: the largest %s of %s: %w", s.column, s.table, err)
		}
		top = max(top, counters[s.table])
		if top == 0 {
			continue
		}
		if _, err := im.dst.Exec(im.ctx, `SELECT setval($1, $2, true)`, s.seq, top); err != nil {
			return fmt.Errorf("import: set sequence %s: %w", s.seq, err)
		}
	}
	return nil
}

// eventBlock reads the ids of a block's events for event_ids.
func (im *importer) eventBlock(src map[string]any) (map[string]any, error) {
	data, _ := src["data"].([]byte)
	ws, _ := src["workspace"].(string)
	raw, err := im.db.codec.Decompress(data)
	if err != nil {
		return nil, fmt.Errorf("block %x: %w", src["id"], err)
	}
	evs, err := store.DecodeEventBlock(raw, ws)
	if err != nil {
		return nil, fmt.Errorf("block %x: %w", src["id"], err)
	}
	for i := range evs {
		// A copy: e.ID[:] would keep the whole decoded block alive.
		id := evs[i].ID
		im.eventIDs = append(im.eventIDs, []any{ws, id[:], src["id"], src["received"]})
	}
	return src, nil
}

// alert writes the whole alert in the document, with the columns SQLite
// keeps in the document alone.
func (im *importer) alert(src map[string]any) (map[string]any, error) {
	a, err := im.opts.DecodeAlert(src)
	if err != nil {
		return nil, fmt.Errorf("alert %v: %w", src["id"], err)
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("alert %v: encode: %w", src["id"], err)
	}
	src["doc"] = doc
	src["reason"] = string(a.Reason)
	src["origin_city"] = ""
	if a.Origin != nil {
		src["origin_city"] = text(a.Origin.City)
	}
	return src, nil
}

// incident takes the columns SQLite keeps in the incident's document alone.
func (im *importer) incident(src map[string]any) (map[string]any, error) {
	inc, err := decodeIncident(asBytes(src["doc"]))
	if err != nil {
		return nil, fmt.Errorf("incident %v: %w", src["id"], err)
	}
	tags := make([]string, len(inc.Tags))
	for i, t := range inc.Tags {
		tags[i] = text(t)
	}
	rules := make([]string, len(inc.RuleIDs))
	for i, r := range inc.RuleIDs {
		rules[i] = text(r)
	}
	src["title_fold"], src["tags"], src["rule_ids"] = asciiLower(text(inc.Title)), tags, rules
	return src, nil
}

// incidentEntity gives an incident entity row its fold.
func (im *importer) incidentEntity(src map[string]any) (map[string]any, error) {
	id, _ := src["incident_id"].(string)
	if key := fmt.Sprint(src["workspace"]) + "\x00" + id; key != im.lastIncident {
		im.lastIncident, im.entityFolds = key, map[string]string{}
		if doc := asBytes(src["doc"]); doc != nil {
			var inc incident.Incident
			if err := json.Unmarshal(doc, &inc); err != nil {
				return nil, fmt.Errorf("incident %s: decode: %w", id, err)
			}
			for _, e := range inc.Entities {
				v := e.Value
				if store.EntityIgnoresCase(e.Type, v) {
					v = store.FoldCase(v)
				}
				im.entityFolds[e.Type+"\x00"+v] = asciiLower(e.Value)
			}
		}
	}
	value := string(asBytes(src["value"]))
	fold, ok := im.entityFolds[fmt.Sprint(src["type"])+"\x00"+value]
	if !ok {
		fold = asciiLower(value)
	}
	src["fold"] = []byte(fold)
	return src, nil
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// convert turns a SQLite value into one of the target column's type.
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bytea":
		if b := asBytes(v); b != nil {
			return b, nil
		}
	case "text":
		switch v := v.(type) {
		case string:
			return text(v), nil
		case []byte:
			return text(string(v)), nil
		}
	case "boolean":
		switch v := v.(type) {
		case int64:
			return v != 0, nil
		case bool:
			return v, nil
		}
	case "bigint", "integer":
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case "double precision":
		switch v := v.(type) {
		case float64:
			return v, nil
		case int64:
			return float64(v), nil
		}
	case "ARRAY":
		if s, ok := v.([]string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("a %T does not go into a %s column", v, typ)
}
