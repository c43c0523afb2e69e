package postgres

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Commit stores batches in one transaction; see store.Store. It takes
// three round trips besides BEGIN and COMMIT — locks and reads (begin), the
// intent estimate's reads when alerts have an origin, and the writes
// (finish) — so that a commit's time is not spent waiting on the network.
//
// Concurrent writers, in this process or others, are kept apart by what
// the transaction takes, always in this order (so that no two wait on each
// other in a cycle): the event_blocks table (ROW EXCLUSIVE, which
// retention's partition drop waits for), a transaction advisory lock on
// each dedup key its signals name (sorted), the batches' ids (inserted
// sorted: a batch another writer is committing waits for its outcome and
// is then skipped), the open alerts of those keys (FOR UPDATE, against a
// concurrent status change), the sources' rows (sorted) and the threat
// pane's count rows (sorted, threatdays.go). So two writers
// with signals of one key merge them into one alert, one after the other.
func (db *DB) Commit(ctx context.Context, batches []*store.Batch) (int, error) {
	if len(batches) == 0 {
		return 0, nil
	}
	for i, b := range batches {
		if err := store.CheckBatch(b); err != nil {
			return 0, fmt.Errorf("commit: batch %d: %w", i, err)
		}
	}
	now := db.now().UTC()
	received := make([]int64, len(batches))
	for i, b := range batches {
		// Retention counts from here: a batch that says nothing of when
		// it came is received now, not at the zero time.
		received[i] = nanos(b.Received)
		if b.Received.IsZero() {
			received[i] = nanos(now)
		}
	}
	for attempt := 0; ; attempt++ {
		for i := range batches {
			if err := db.ensurePartition(ctx, dayOf(received[i])); err != nil {
				return 0, fmt.Errorf("commit: %w", err)
			}
		}
		n, err := db.commit(ctx, batches, received, now)
		if err != nil && attempt < 2 && isCode(err, codeNoPartition) {
			// Another process's retention dropped a partition this
			// one thought it had.
			db.forgetPartitions()
			continue
		}
		return n, err
	}
}

// committer is the state of one Commit transaction.
type committer struct {
	ctx context.Context
	tx  pgx.Tx
	db  *DB
	now time.Time
	// open is the current alert of each workspace+dedup key met in this
	// transaction (nil when the database has none open); order holds
	// every alert to write back, created those this transaction starts.
	open    map[string]*alert.Alert
	order   []*alert.Alert
	touched map[string]bool
	created map[string]bool
	pins    []pin
	sources map[[2]string]*sourceDelta
	// alertSources are the (workspace, source, alert) rows the commit
	// adds; hits and suppressed the suppressions' hits and the rules'
	// suppressed signals, by (workspace, suppression or rule).
	alertSources map[[3]string]bool
	hits         map[[2]string]int64
	suppressed   map[[2]string]int64
	// batches are the call's batches (their events place new alerts:
	// alertdatabases.go); finalPlace are the open alerts whose database
	// place is final, paneBefore what the open alerts counted in the
	// threat pane's tables before this commit (threatdays.go).
	batches    []*store.Batch
	finalPlace map[string]bool
	paneBefore map[string]paneCount
	writes     pgx.Batch
}

type pin struct {
	ws, alert string
	event     event.ID
}

type sourceDelta struct {
	format           string
	events, rejected int64
	lastSeen         int64
}

func (db *DB) commit(ctx context.Context, batches []*store.Batch, received []int64, now time.Time) (int, error) {
	added, changed := 0, false
	err := db.tx(ctx, "commit", func(tx pgx.Tx) error {
		added = 0
		c := &committer{ctx: ctx, tx: tx, db: db, now: now, open: map[string]*alert.Alert{},
			touched: map[string]bool{}, created: map[string]bool{}, sources: map[[2]string]*sourceDelta{},
			batches: batches, finalPlace: map[string]bool{}, paneBefore: map[string]paneCount{}}
		fresh, err := c.begin(batches)
		if err != nil {
			return err
		}
		for i, b := range batches {
			if !fresh[b.ID] {
				continue
			}
			delete(fresh, b.ID) // a batch twice in one call counts once
			added++
			c.block(b, received[i])
			c.journal(b)
			c.journalParts(b) // partitions_corr.go
			for _, s := range b.Signals {
				c.signal(store.SignalOf(s, b), b.Source)
			}
			c.suppress(b)
			c.quarantine(b, received[i])
			c.count(b, received[i])
		}
		changed = len(c.order) > 0
		return c.finish()
	})
	if err != nil {
		return 0, err
	}
	if changed {
		db.streams.alerts.broadcast()
	}
	db.log.Debug("store commit", "batches", len(batches), "new", added)
	return added, nil
}

// lockKey is the advisory lock key of a workspace's dedup key.
func lockKey(ws, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(ws))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// begin takes the transaction's locks and reads what it merges into, in
// one round trip: the event_blocks table (ROW EXCLUSIVE), the advisory
// locks of the dedup keys the batches' signals name (in order), the
// batches' ids (recorded in order: it returns those that were new; a batch
// another transaction records meanwhile waits for it, and is not new once
// it committed) and the open alerts of those keys (FOR UPDATE), the one
// seen last of each key becoming c.open's.
func (c *committer) begin(batches []*store.Batch) (map[event.ID]bool, error) {
	var locks []int64
	var wss, keys []string
	for _, b := range batches {
		for _, s := range b.Signals {
			s = store.SignalOf(s, b)
			k := s.Workspace + "\x00" + text(s.DedupKey)
			if _, ok := c.open[k]; ok {
				continue
			}
			c.open[k] = nil // none open, unless the database has one
			locks = append(locks, lockKey(s.Workspace, s.DedupKey))
			wss, keys = append(wss, s.Workspace), append(keys, text(s.DedupKey))
		}
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	ids := make([][]byte, 0, len(batches))
	for _, b := range batches {
		ids = append(ids, b.ID[:])
	}
	slices.SortFunc(ids, bytes.Compare)
	ids = slices.CompactFunc(ids, bytes.Equal)

	var q pgx.Batch
	q.Queue(`LOCK TABLE ONLY event_blocks IN ROW EXCLUSIVE MODE`)
	for _, b := range batches {
		if len(b.Correlation) > 0 {
			q.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(journalLock), c.db.schemaLockKey())
			break
		}
	}
	if len(locks) > 0 {
		q.Queue(`SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS keys`, locks)
	}
	fresh := map[event.ID]bool{}
	q.Queue(`INSERT INTO committed_batches (id, committed)
		SELECT id, $2 FROM unnest($1::bytea[]) AS id ORDER BY id
		ON CONFLICT DO NOTHING RETURNING id`, ids, nanos(c.now)).Query(func(rows pgx.Rows) error {
		var raw []byte
		_, err := pgx.ForEachRow(rows, []any{&raw}, func() error {
			var id event.ID
			copy(id[:], raw)
			fresh[id] = true
			return nil
		})
		return err
	})
	if len(keys) > 0 {
		q.Queue(`SELECT workspace, dedup_key, `+paneColumns+`, `+alertColumns+` FROM alerts
			WHERE (workspace, dedup_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
				AND status IN `+sqlOpenStatuses+`
			ORDER BY workspace, dedup_key, last_seen DESC, id DESC FOR UPDATE`, wss, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var ws, key string
				var pane paneScan
				a, err := scanAlert(prefixed{rows, append([]any{&ws, &key}, pane.dest()...)})
				if err != nil {
					return err
				}
				if k := ws + "\x00" + key; c.open[k] == nil {
					c.open[k] = &a
					c.paneBefore[a.ID] = pane.count(ws)
				}
			}
			return rows.Err()
		})
		// The open alerts' database places that are final (read from
		// their evidence event), which the commit leaves as they are.
		q.Queue(`SELECT d.alert_id FROM alert_databases d JOIN alerts a ON a.id = d.alert_id
			WHERE (a.workspace, a.dedup_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
				AND a.status IN `+sqlOpenStatuses+` AND d.db_kind IN ($3, $4)`,
			wss, keys, store.PlaceKindNone, store.PlaceKindEvent).Query(func(rows pgx.Rows) error {
			var id string
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
				c.finalPlace[id] = true
				return nil
			})
			return err
		})
	}
	if err := c.tx.SendBatch(c.ctx, &q).Close(); err != nil {
		return nil, fmt.Errorf("commit: lock, record batch ids and read open alerts: %w", err)
	}
	return fresh, nil
}

// prefixed scans leading columns into its own destinations, then the
// rest into the caller's.
type prefixed struct {
	row  scanner
	head []any
}

func (p prefixed) Scan(dest ...any) error { return p.row.Scan(append(p.head, dest...)...) }

// block queues b's events as a compressed block with its event ids and
// entity values.
func (c *committer) block(b *store.Batch, received int64) {
	minT, maxT := received, received
	ids := make([][]byte, len(b.Events))
	var entities [][]byte
	seen := map[string]bool{}
	for i := range b.Events {
		e := &b.Events[i]
		t := nanos(e.Time)
		if i == 0 {
			minT, maxT = t, t
		}
		minT, maxT = min(minT, t), max(maxT, t)
		ids[i] = e.ID[:]
		for _, f := range store.EventEntityFields {
			if v := e.Common[f]; store.Indexable(v) {
				if k := store.FoldCase(v); !seen[k] {
					seen[k] = true
					entities = append(entities, []byte(k))
				}
			}
		}
	}
	data := c.db.codec.Compress(nil, store.AppendEventBlock(nil, b.Events), store.BlockZstd)
	c.writes.Queue(`INSERT INTO event_blocks (workspace, id, source, format, min_time, max_time, received, count, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		b.Workspace, b.ID[:], b.Source, b.Format, minT, maxT, received, len(b.Events), data)
	if len(ids) > 0 {
		c.writes.Queue(`INSERT INTO event_ids (workspace, id, block_id, received)
			SELECT $1, id, $2, $3 FROM unnest($4::bytea[]) AS id`, b.Workspace, b.ID[:], received, ids)
	}
	if len(entities) > 0 {
		c.writes.Queue(`INSERT INTO event_entities (workspace, folded, block_id, received)
			SELECT $1, f, $2, $3 FROM unnest($4::bytea[]) AS f`, b.Workspace, b.ID[:], received, entities)
	}
}

// signal merges s into the open alert of its dedup key, or starts one
// (store.Joins).
func (c *committer) signal(s alert.Signal, source string) {
	k := s.Workspace + "\x00" + text(s.DedupKey)
	a := c.open[k] // begin read it
	had := 0       // evidence before s
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
	if c.alertSources == nil {
		c.alertSources = map[[3]string]bool{}
	}
	c.alertSources[[3]string{a.Workspace, source, a.ID}] = true
	c.open[k] = a
	if !c.touched[a.ID] {
		c.touched[a.ID] = true
		c.order = append(c.order, a)
	}
}

// quarantine queues a batch's rejected records.
func (c *committer) quarantine(b *store.Batch, received int64) {
	for _, q := range b.Quarantined {
		raw, cut := q.Raw, false
		if len(raw) > store.MaxQuarantinedRaw {
			raw, cut = raw[:store.MaxQuarantinedRaw], true
		}
		c.writes.Queue(`INSERT INTO quarantine (workspace, source, format, batch_id, record_id, line, reason, received, raw, truncated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			b.Workspace, b.Source, b.Format, b.ID[:], q.ID[:], q.Line, []byte(store.CapReason(q.Reason)), received, raw, cut)
	}
}

// count adds b to its source's counters.
func (c *committer) count(b *store.Batch, received int64) {
	if len(b.Events) == 0 && b.Rejected == 0 {
		// A batch of signals only (correlation, source health) is no
		// traffic of its source: its counters and last_seen stay.
		return
	}
	k := [2]string{b.Workspace, b.Source}
	d := c.sources[k]
	if d == nil {
		d = &sourceDelta{format: b.Format}
		c.sources[k] = d
	}
	d.events += int64(len(b.Events))
	d.rejected += int64(b.Rejected)
	d.lastSeen = max(d.lastSeen, received)
}

// finish writes the touched alerts, their entities and new evidence, the
// quarantined records and the source counters, in one round trip.
func (c *committer) finish() error {
	if err := store.EstimateIntents(c.ctx, c.order, intentPeers{c.tx}); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, a := range c.order {
		a.Assess() // after the intent, which weighs in
		if err := queueAlert(&c.writes, a); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	for _, p := range c.pins {
		c.writes.Queue(`INSERT INTO alert_evidence (workspace, event_id, alert_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			p.ws, p.event[:], p.alert)
	}
	if err := c.queueAlertDatabases(); err != nil {
		return err
	}
	c.queueAlertSources()
	c.queueSuppressed()
	keys := make([][2]string, 0, len(c.sources))
	for k := range c.sources {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		d := c.sources[k]
		c.writes.Queue(`INSERT INTO sources (workspace, name, format, created, last_seen, events, rejected)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (workspace, name) DO UPDATE SET
				events = sources.events + excluded.events,
				rejected = sources.rejected + excluded.rejected,
				last_seen = greatest(sources.last_seen, excluded.last_seen)`,
			k[0], k[1], d.format, nanos(c.now), d.lastSeen, d.events, d.rejected)
	}
	// After the sources' rows, as every commit takes them.
	c.queuePaneCounts()
	// The alert stream, in the order the alerts were touched; last, as
	// its lock must be (streams.go).
	changes := make([]store.AlertChange, 0, len(c.order))
	for _, a := range c.order {
		kind := store.ChangeUpdated
		if c.created[a.ID] {
			kind = store.ChangeCreated
		}
		changes = append(changes, alertChange(a, kind, c.now))
	}
	c.db.queueAlertChanges(&c.writes, changes)
	if c.writes.Len() == 0 {
		return nil
	}
	if err := c.tx.SendBatch(c.ctx, &c.writes).Close(); err != nil {
		return fmt.Errorf("commit: write alerts and counters: %w", err)
	}
	return nil
}
