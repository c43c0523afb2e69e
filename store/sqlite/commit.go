package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// entityFields are the common fields whose distinct values index a block
// (store.EventEntityFields).
var entityFields = store.EventEntityFields

func indexable(v string) bool { return store.Indexable(v) }

// preparedBlock is a batch made ready for writing outside the transaction:
// encoding and compression are most of a commit's CPU and need no lock.
type preparedBlock struct {
	b            *store.Batch
	data         []byte
	minT, maxT   int64
	minID, maxID event.ID
	spanMS       int64
	entities     []string
	buf          *[]byte // data's buffer, from blockBufs
}

var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// blockBufs holds compressed blocks for reuse once their transaction is over
// (SQLite copies what it is bound).
var blockBufs = sync.Pool{New: func() any { return new([]byte) }}

// release hands the blocks' buffers back to blockBufs.
func release(blocks []*preparedBlock) {
	for _, p := range blocks {
		if p != nil && p.buf != nil {
			*p.buf = p.data[:0]
			blockBufs.Put(p.buf)
			p.buf, p.data = nil, nil
		}
	}
}

// Commit stores batches in one transaction; see store.Store.
func (db *DB) Commit(ctx context.Context, batches []*store.Batch) (int, error) {
	if len(batches) == 0 {
		return 0, nil
	}
	for i, b := range batches {
		if err := store.CheckBatch(b); err != nil {
			return 0, fmt.Errorf("commit: batch %d: %w", i, err)
		}
	}
	known, err := db.committedBatches(ctx, batches)
	if err != nil {
		return 0, err
	}
	blocks := db.prepareBlocks(batches, known)
	defer release(blocks)

	added, changed := 0, false
	err = db.write(ctx, "commit", func(tx *sql.Tx) error {
		added = 0
		c := &committer{ctx: ctx, tx: tx, db: db, now: db.now().UTC(),
			open: map[string]*alert.Alert{}, touched: map[string]*alert.Alert{}, fullEvidence: map[string]bool{},
			created: map[string]bool{}, sources: map[[2]string]*sourceDelta{}}
		defer func() { changed = len(c.order) > 0 }()
		for _, p := range blocks {
			if p == nil {
				continue
			}
			ok, err := c.block(p)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return c.finish()
	})
	if err != nil {
		return 0, err
	}
	if changed {
		db.changes.broadcast()
	}
	db.log.Debug("store commit", "batches", len(batches), "new", added)
	return added, nil
}

// committedBatches returns the ids among batches that are already stored, so
// that a replay costs no compression. The transaction checks again.
func (db *DB) committedBatches(ctx context.Context, batches []*store.Batch) (map[event.ID]bool, error) {
	known := map[event.ID]bool{}
	const chunk = 500
	for start := 0; start < len(batches); start += chunk {
		part := batches[start:min(start+chunk, len(batches))]
		args := make([]any, len(part))
		for i, b := range part {
			args[i] = b.ID[:]
		}
		q := `SELECT id FROM committed_batches WHERE id IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := db.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("commit: look up committed batches: %w", err)
		}
		for rows.Next() {
			var id []byte
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("commit: look up committed batches: %w", err)
			}
			var k event.ID
			copy(k[:], id)
			known[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("commit: look up committed batches: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("commit: look up committed batches: %w", err)
		}
	}
	return known, nil
}

// prepareBlocks encodes and compresses the batches not known, in parallel.
func (db *DB) prepareBlocks(batches []*store.Batch, known map[event.ID]bool) []*preparedBlock {
	out := make([]*preparedBlock, len(batches))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = db.prepareBlock(batches[i])
			}
		}()
	}
	for i, b := range batches {
		if !known[b.ID] {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	return out
}

func (db *DB) prepareBlock(b *store.Batch) *preparedBlock {
	p := &preparedBlock{b: b}
	buf := encodeBufs.Get().(*[]byte)
	// Buffers are sized up front with room to spare, so that a pooled one
	// fits the next batch too: grown by appending, a megabyte block was
	// copied several times over into fresh memory.
	est := 4096
	for i := range b.Events {
		est += len(b.Events[i].Raw) + 128
	}
	if cap(*buf) < est {
		*buf = make([]byte, 0, est+est/4)
	}
	raw := encodeBlock((*buf)[:0], b.Events)
	out := blockBufs.Get().(*[]byte)
	if want := len(raw)/3 + 64; cap(*out) < want {
		*out = make([]byte, 0, want+want/4)
	}
	p.data = db.codec.compress((*out)[:0], raw, db.comp)
	p.buf = out
	*buf = raw
	encodeBufs.Put(buf)

	if len(b.Events) == 0 {
		p.minT, p.maxT = nanos(b.Received), nanos(b.Received)
		return p
	}
	p.minT, p.maxT = nanos(b.Events[0].Time), nanos(b.Events[0].Time)
	p.minID, p.maxID = b.Events[0].ID, b.Events[0].ID
	seen := make(map[string]struct{}, 64)
	for i := range b.Events {
		e := &b.Events[i]
		t := nanos(e.Time)
		p.minT, p.maxT = min(p.minT, t), max(p.maxT, t)
		if e.ID.Compare(p.minID) < 0 {
			p.minID = e.ID
		}
		if e.ID.Compare(p.maxID) > 0 {
			p.maxID = e.ID
		}
		for _, f := range entityFields {
			if v := e.Common[f]; indexable(v) {
				k := store.FoldCase(v)
				if _, ok := seen[k]; !ok {
					seen[k] = struct{}{}
					p.entities = append(p.entities, k) // used before Commit returns: no copy
				}
			}
		}
	}
	p.spanMS = int64(p.maxID.Time() - p.minID.Time())
	return p
}

type sourceDelta struct {
	format           string
	events, rejected int64
	lastSeen         time.Time
}

// committer is the state of one Commit transaction.
type committer struct {
	ctx context.Context
	tx  *sql.Tx
	db  *DB
	now time.Time
	// open is the current alert of each workspace+dedup key met in this
	// transaction (nil when the database has none open); touched holds
	// every alert to write back, by id.
	open    map[string]*alert.Alert
	touched map[string]*alert.Alert
	order   []*alert.Alert
	sources map[[2]string]*sourceDelta
	pins    []pin // evidence added to alerts, for alert_evidence
	spanMS  int64
	stmts   map[*sql.Stmt]*sql.Stmt // the prepared statements bound to tx
	// fullEvidence holds the alerts loaded without their (full) evidence.
	fullEvidence map[string]bool
	// created holds the alerts this transaction started.
	created map[string]bool
	// alertSources are the sources whose signals joined alerts.
	alertSources map[alertSource]bool
	// batches are the batches this commit writes, and batchEvents their
	// events by id, built when an alert is placed (alertdatabases.go).
	batches     []*store.Batch
	batchEvents map[event.ID]batchEvent
	// paneBefore is what the stored alerts this commit loaded counted in
	// threat_days before it (threatdays.go).
	paneBefore map[string]paneBefore
}

func (c *committer) stmt(s *sql.Stmt) *sql.Stmt {
	if t, ok := c.stmts[s]; ok {
		return t
	}
	if c.stmts == nil {
		c.stmts = map[*sql.Stmt]*sql.Stmt{}
	}
	t := c.tx.StmtContext(c.ctx, s)
	c.stmts[s] = t
	return t
}

const (
	sqlBlockExists   = `SELECT 1 FROM committed_batches WHERE id = ?`
	sqlInsertBatchID = `INSERT INTO committed_batches (id, committed) VALUES (?, ?)`
	sqlInsertBlock   = `INSERT INTO event_blocks
		(id, workspace, source, format, min_time, max_time, min_id, max_id, received, count, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertEntity   = `INSERT INTO event_entities (workspace, folded, block_id) VALUES (?, ?, ?)`
	sqlInsertEntities = `INSERT INTO event_entities (workspace, folded, block_id) SELECT ?1, value, ?2 FROM json_each(?3)`
	sqlInsertEvidence = `INSERT OR IGNORE INTO alert_evidence (workspace, event_id, alert_id) VALUES (?, ?, ?)`
	sqlUpsertSource   = `INSERT INTO sources
		(workspace, name, format, created, last_seen, events, rejected) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace, name) DO UPDATE SET
			events = events + excluded.events,
			rejected = rejected + excluded.rejected,
			last_seen = max(coalesce(last_seen, excluded.last_seen), excluded.last_seen)`
	sqlRecordSpan = `INSERT INTO meta (key, value) VALUES ('max_id_span_ms', ?)
		ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`
)

// block writes one prepared batch unless it was committed before.
func (c *committer) block(p *preparedBlock) (bool, error) {
	b := p.b
	var one int
	err := c.stmt(c.db.st.blockExists).QueryRowContext(c.ctx, b.ID[:]).Scan(&one)
	switch {
	case err == nil:
		return false, nil // committed before: a replay
	case err != sql.ErrNoRows:
		return false, fmt.Errorf("commit: batch %s: look up: %w", b.ID, err)
	}
	// Retention counts from here: a batch that says nothing of when it
	// came is received now, not at the zero time.
	received := b.Received
	if received.IsZero() {
		received = c.now
	}
	_, err = c.stmt(c.db.st.insertBlock).ExecContext(c.ctx,
		b.ID[:], b.Workspace, b.Source, b.Format, p.minT, p.maxT, p.minID[:], p.maxID[:],
		nanos(received), len(b.Events), p.data)
	if err != nil {
		return false, fmt.Errorf("commit: batch %s: write block: %w", b.ID, err)
	}
	if _, err := c.stmt(c.db.st.insertBatchID).ExecContext(c.ctx, b.ID[:], nanos(c.now)); err != nil {
		return false, fmt.Errorf("commit: batch %s: record its id: %w", b.ID, err)
	}
	if err := c.entities(b, p.entities); err != nil {
		return false, err
	}
	if err := c.journal(b); err != nil {
		return false, err
	}
	c.spanMS = max(c.spanMS, p.spanMS)
	c.batches = append(c.batches, b)

	for i := range b.Signals {
		if err := c.signal(b.Signals[i], b); err != nil {
			return false, err
		}
	}
	if err := c.suppressed(b); err != nil {
		return false, err
	}
	if err := c.quarantine(b); err != nil {
		return false, err
	}

	if len(b.Events) == 0 && b.Rejected == 0 {
		// A batch of signals only (correlation, source health) is no
		// traffic of its source: its counters and last_seen stay.
		return true, nil
	}
	k := [2]string{b.Workspace, b.Source}
	d := c.sources[k]
	if d == nil {
		d = &sourceDelta{format: b.Format}
		c.sources[k] = d
	}
	d.events += int64(len(b.Events))
	d.rejected += int64(b.Rejected)
	seen := b.Received
	if seen.IsZero() {
		seen = c.now
	}
	if seen.After(d.lastSeen) {
		d.lastSeen = seen
	}
	return true, nil
}

// entities writes a block's entity rows with one statement, the values
// passed as a JSON array: a statement per row would cost more in the driver
// than in SQLite. Values JSON cannot carry unchanged (invalid UTF-8, NUL)
// go one by one.
func (c *committer) entities(b *store.Batch, values []string) error {
	plain := values[:0:0]
	for _, v := range values {
		if utf8.ValidString(v) && !strings.ContainsRune(v, 0) {
			plain = append(plain, v)
			continue
		}
		if _, err := c.stmt(c.db.st.insertEntity).ExecContext(c.ctx, b.Workspace, v, b.ID[:]); err != nil {
			return fmt.Errorf("commit: batch %s: write entity index: %w", b.ID, err)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	list, err := json.Marshal(plain)
	if err != nil {
		return fmt.Errorf("commit: batch %s: entity index: %w", b.ID, err)
	}
	if _, err := c.stmt(c.db.st.insertEntities).ExecContext(c.ctx, b.Workspace, b.ID[:], list); err != nil {
		return fmt.Errorf("commit: batch %s: write entity index: %w", b.ID, err)
	}
	return nil
}

// signal merges s into the open alert of its dedup key, or starts one.
func (c *committer) signal(s alert.Signal, b *store.Batch) error {
	s = store.SignalOf(s, b)
	k := s.Workspace + "\x00" + s.DedupKey
	a, ok := c.open[k]
	if !ok {
		var err error
		if a, err = c.loadOpen(s.Workspace, s.DedupKey); err != nil {
			return fmt.Errorf("commit: batch %s: rule %s: %w", b.ID, s.Rule.ID, err)
		}
		c.notePaneBefore(a)
	}
	had := 0 // evidence before s
	if store.Joins(a, s, c.db.window) {
		had = len(a.Evidence)
		a.Add(s, c.now)
	} else {
		a = alert.New(event.NewID().String(), s, c.now)
		c.created[a.ID] = true
	}
	if id, ok := store.EvidenceID(s.Evidence); ok && len(a.Evidence) > had {
		c.pins = append(c.pins, pin{ws: a.Workspace, event: id, alert: a.ID})
	}
	c.noteSource(a.Workspace, b.Source, a.ID)
	c.open[k] = a
	if _, ok := c.touched[a.ID]; !ok {
		c.touched[a.ID] = a
		c.order = append(c.order, a)
	}
	return nil
}

// pin records that an alert names an event as evidence: retention keeps the
// event's block while the alert is open.
type pin struct {
	ws, alert string
	event     event.ID
}

// loadOpen returns the open alert of the key seen last, or nil.
func (c *committer) loadOpen(ws, key string) (*alert.Alert, error) {
	row := c.stmt(c.db.st.openAlert).QueryRowContext(c.ctx, ws, key)
	a, loaded, err := scanAlertEvidence(row)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up open alert %q: %w", key, err)
	}
	if !loaded {
		c.fullEvidence[a.ID] = true
	}
	return &a, nil
}

// finish writes the touched alerts, their new evidence, the source counters
// and the id span.
func (c *committer) finish() error {
	if err := c.estimateIntents(); err != nil {
		return err
	}
	for _, a := range c.order {
		a.Assess() // after the intent, which weighs in
		if err := c.writeAlert(a, c.fullEvidence[a.ID]); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		// The alert stream, in commit order: what incidents, automation
		// and notifications consume once this transaction commits.
		kind := store.ChangeUpdated
		if c.created[a.ID] {
			kind = store.ChangeCreated
		}
		if err := appendChange(c.ctx, c.stmt(c.db.st.insertAlertChange).ExecContext, a, kind, c.now); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	if err := c.writeAlertSources(); err != nil {
		return err
	}
	if err := c.writeAlertDatabases(); err != nil {
		return err
	}
	if err := c.writeThreatDays(); err != nil {
		return err
	}
	for _, p := range c.pins {
		if _, err := c.stmt(c.db.st.insertEvidence).ExecContext(c.ctx, p.ws, p.event[:], p.alert); err != nil {
			return fmt.Errorf("commit: alert %s: evidence %s: %w", p.alert, p.event, err)
		}
	}
	for k, d := range c.sources {
		_, err := c.stmt(c.db.st.upsertSource).ExecContext(c.ctx,
			k[0], k[1], d.format, nanos(c.now), nanos(d.lastSeen), d.events, d.rejected)
		if err != nil {
			return fmt.Errorf("commit: update source %s/%s: %w", k[0], k[1], err)
		}
	}
	if c.spanMS > 0 {
		_, err := c.stmt(c.db.st.recordSpan).ExecContext(c.ctx, c.spanMS)
		if err != nil {
			return fmt.Errorf("commit: record block id span: %w", err)
		}
	}
	return nil
}
