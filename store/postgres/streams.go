package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The alert and incident streams (store.AlertStream, store.Incidents).
//
// Several processes write them at once, so a seq drawn from a sequence
// alone could become visible after a higher one — and a consumer that read
// past the higher one would skip it for good. So a transaction appends its
// changes last, after a transaction advisory lock of the stream (one per
// stream and schema) that it holds until it has committed: the changes of
// one transaction get the next seqs, and are visible, before the next
// writer draws any. Taken last, the lock is held only for the insert and
// the commit itself, and no writer holding it waits for another lock (no
// deadlock). A transaction rolled back leaves a gap, which consumers
// (reading seq > cursor) do not mind.
//
// Consumers in other processes are woken with NOTIFY, sent in the same
// transaction (delivered when it commits) on channel vigil_changes with
// the schema, the stream and the writing DB's token as payload; each DB
// LISTENs on a connection of its own, opened when a consumer first asks
// for a signal, and wakes its consumers at once after its own commits
// (ignoring its own notifications, which would only wake them again).

var _ store.AlertStream = (*DB)(nil)

// Advisory lock classes of the two streams (the two-int form; the second
// key is the schema's, as for migrations).
const (
	alertStreamLock    = 0x7669_6733
	incidentStreamLock = 0x7669_6734
)

// notifyChannel carries "<schema>/a/<token>" and "<schema>/i/<token>"
// when a transaction of the DB of that token appended to the schema's
// alert or incident stream.
const notifyChannel = "vigil_changes"

// changeSignal wakes a stream's consumers: ch is closed (and replaced)
// when changes were appended.
type changeSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *changeSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *changeSignal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// streams is a DB's part of the streams: the signals and the listener.
type streams struct {
	alerts, incidents changeSignal
	token             string // tells this DB's notifications apart
	once              sync.Once
	stop              context.CancelFunc
	done              chan struct{}
}

func newToken() string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail
	return hex.EncodeToString(b[:])
}

// AlertChangesSignal; see store.AlertStream. It is closed on commits of
// this process at once, and of others when their NOTIFY arrives.
func (db *DB) AlertChangesSignal() <-chan struct{} {
	db.listen()
	return db.streams.alerts.wait()
}

// IncidentChangesSignal; see store.Incidents.
func (db *DB) IncidentChangesSignal() <-chan struct{} {
	db.listen()
	return db.streams.incidents.wait()
}

// listenWait bounds how long the first signal waits for LISTEN.
const listenWait = 5 * time.Second

// listen starts the listener, once, and waits (up to listenWait) until it
// listens: a consumer that reads the stream after its first signal call
// misses no other process's change between the two.
func (db *DB) listen() {
	db.streams.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		db.streams.stop, db.streams.done = cancel, make(chan struct{})
		ready := make(chan struct{})
		go db.listener(ctx, ready)
		select {
		case <-ready:
		case <-time.After(listenWait):
		}
	})
}

// stopListening ends the listener, if it started.
func (db *DB) stopListening() {
	db.streams.once.Do(func() {}) // none starts after Close
	if db.streams.stop != nil {
		db.streams.stop()
		<-db.streams.done
	}
}

// listener LISTENs on a connection of its own, reconnecting after a
// failure; on every reconnection it wakes the consumers, who may have
// missed a notification meanwhile. ready is closed once the first attempt
// listens or failed.
func (db *DB) listener(ctx context.Context, ready chan struct{}) {
	defer close(db.streams.done)
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		listening := false
		err := db.listenOnce(ctx, first, func() { listening = true; close(ready) })
		if first && !listening {
			close(ready) // failed before it listened
		}
		first = false
		if ctx.Err() != nil {
			return
		}
		if listening {
			backoff = 100 * time.Millisecond // it worked for a while
		}
		db.log.Warn("store: listening for stream changes failed; consumers poll until it is back", "err", err, "retry", backoff)
		db.streams.alerts.broadcast()
		db.streams.incidents.broadcast()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, first bool, listening func()) error {
	cfg := db.pool.Config().ConnConfig.Copy()
	// Named, so that an operator sees what the long-lived idle session
	// is (pg_stat_activity).
	cfg.RuntimeParams["application_name"] = "vigil-listener-" + db.streams.token
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if first {
		listening()
	} else {
		db.streams.alerts.broadcast()
		db.streams.incidents.broadcast()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		ns, rest, _ := strings.Cut(n.Payload, "/")
		stream, token, _ := strings.Cut(rest, "/")
		if ns != schema || token == db.streams.token {
			continue
		}
		switch stream {
		case "a":
			db.streams.alerts.broadcast()
		case "i":
			db.streams.incidents.broadcast()
		}
	}
}

// queueAlertChanges queues the appending of changes to the alert stream,
// lock and NOTIFY included: the last statements of their transaction. The
// caller wakes this process's consumers (db.streams.alerts.broadcast) once
// the transaction committed.
func (db *DB) queueAlertChanges(b *pgx.Batch, cs []store.AlertChange) {
	if len(cs) == 0 {
		return
	}
	ws, ids, kinds, statuses, ats := make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]int64, len(cs))
	for i, c := range cs {
		ws[i], ids[i], kinds[i], statuses[i], ats[i] = c.Workspace, c.AlertID, string(c.Kind), string(c.Status), nanos(c.At)
	}
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(alertStreamLock), db.schemaLockKey())
	b.Queue(`INSERT INTO alert_changes (workspace, alert_id, kind, status, at)
		SELECT w, a, k, s, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
			WITH ORDINALITY AS c (w, a, k, s, t, n) ORDER BY n`, ws, ids, kinds, statuses, ats)
	b.Queue(`SELECT pg_notify($1, current_schema() || '/a/' || $2)`, notifyChannel, db.streams.token)
}

// alertChange is a's change of kind at at.
func alertChange(a *alert.Alert, kind store.ChangeKind, at time.Time) store.AlertChange {
	return store.AlertChange{Workspace: a.Workspace, AlertID: a.ID, Kind: kind, Status: a.Status, At: at}
}

// appendIncidentChanges appends changes to the incident stream in tx, lock
// and NOTIFY included: the last statements of the transaction.
func (db *DB) appendIncidentChanges(ctx context.Context, tx pgx.Tx, cs []store.IncidentChange) error {
	if len(cs) == 0 {
		return nil
	}
	ws, ids, kinds, stages, actors, ats := make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)),
		make([]string, len(cs)), make([]string, len(cs)), make([]int64, len(cs))
	for i, c := range cs {
		ws[i], ids[i], kinds[i], stages[i], actors[i], ats[i] = c.Workspace, c.IncidentID, string(c.Kind), string(c.Stage), text(c.Actor), nanos(c.At)
	}
	var b pgx.Batch
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(incidentStreamLock), db.schemaLockKey())
	b.Queue(`INSERT INTO incident_changes (workspace, incident_id, kind, stage, actor, at)
		SELECT w, i, k, s, a, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
			WITH ORDINALITY AS c (w, i, k, s, a, t, n) ORDER BY n`, ws, ids, kinds, stages, actors, ats)
	b.Queue(`SELECT pg_notify($1, current_schema() || '/i/' || $2)`, notifyChannel, db.streams.token)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("append %d incident changes: %w", len(cs), err)
	}
	return nil
}

// AlertChanges; see store.AlertStream.
func (db *DB) AlertChanges(ctx context.Context, afterSeq int64, n int) ([]store.AlertChange, error) {
	return collect(ctx, db.pool, "alert changes", func(r scanner) (store.AlertChange, error) {
		var c store.AlertChange
		var kind, status string
		var at int64
		err := r.Scan(&c.Seq, &c.Workspace, &c.AlertID, &kind, &status, &at)
		c.Kind, c.Status, c.At = store.ChangeKind(kind), alert.Status(status), fromNanos(at)
		return c, err
	}, `SELECT seq, workspace, alert_id, kind, status, at FROM alert_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		afterSeq, store.PageLimit(n))
}

// IncidentChanges; see store.Incidents.
func (db *DB) IncidentChanges(ctx context.Context, afterSeq int64, n int) ([]store.IncidentChange, error) {
	return collect(ctx, db.pool, "incident changes", func(r scanner) (store.IncidentChange, error) {
		var c store.IncidentChange
		var kind, stage string
		var at int64
		err := r.Scan(&c.Seq, &c.Workspace, &c.IncidentID, &kind, &stage, &c.Actor, &at)
		c.Kind, c.Stage, c.At = store.IncidentChangeKind(kind), incident.Stage(stage), fromNanos(at)
		return c, err
	}, `SELECT seq, workspace, incident_id, kind, stage, actor, at FROM incident_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		afterSeq, store.PageLimit(n))
}

// ChangeHeads returns the Seq of the newest change in the alert stream and
// in the incident stream (0 for an empty one), as store/sqlite's does.
func (db *DB) ChangeHeads(ctx context.Context) (alerts, incidents int64, err error) {
	err = db.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(max(seq), 0) FROM alert_changes),
		(SELECT coalesce(max(seq), 0) FROM incident_changes)`).Scan(&alerts, &incidents)
	if err != nil {
		return 0, 0, fmt.Errorf("heads of the alert and incident streams: %w", err)
	}
	return alerts, incidents, nil
}

// ConsumerCursor; see store.AlertStream.
func (db *DB) ConsumerCursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM stream_cursors WHERE name = $1`, name).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor of alert stream consumer %q: %w", name, err)
	}
	return seq, nil
}

// SetConsumerCursor; see store.AlertStream.
func (db *DB) SetConsumerCursor(ctx context.Context, name string, seq int64) error {
	if name == "" || seq < 0 {
		return fmt.Errorf("alert stream cursor %q at %d: %w (want a name and a seq of 0 or more)", name, seq, store.ErrInvalid)
	}
	return setCursor(ctx, db.pool, name, seq, db.now())
}

func setCursor(ctx context.Context, q querier, name string, seq int64, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO stream_cursors (name, seq, updated) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET seq = greatest(stream_cursors.seq, excluded.seq), updated = excluded.updated`,
		text(name), seq, nanos(now))
	if err != nil {
		return fmt.Errorf("cursor of alert stream consumer %q: %w", name, err)
	}
	return nil
}

// PurgeAlertChanges; see store.AlertStream.
func (db *DB) PurgeAlertChanges(ctx context.Context, before time.Time) (int64, error) {
	// min(seq) of no cursor is NULL: with no consumer, only the horizon
	// purges.
	tag, err := db.pool.Exec(ctx, `DELETE FROM alert_changes
		WHERE at < $1 OR seq <= (SELECT min(seq) FROM stream_cursors)`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("purge alert changes: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PurgeIncidentChanges deletes the incident stream's changes made before
// before and returns how many went: by age alone, as store/sqlite's (no
// cursor tells which stream it follows).
func (db *DB) PurgeIncidentChanges(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM incident_changes WHERE at < $1`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("purge incident changes: %w", err)
	}
	return tag.RowsAffected(), nil
}
