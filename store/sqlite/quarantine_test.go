package sqlite

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

func quarantined(line int, raw string) store.Quarantined {
	return store.Quarantined{ID: event.NewID(), Line: line, Reason: "windows: invalid JSON at byte 3", Raw: []byte(raw)}
}

func TestQuarantineKeptOnceAndIsolated(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "a")
	mustWorkspace(t, db, "b")
	ba := batch("a", "dc", ev("a", "dc", t0, "h", "u", "192.0.2.1"))
	ba.Rejected = 2
	ba.Quarantined = []store.Quarantined{quarantined(2, `{"x":`), quarantined(5, string(bytes.Repeat([]byte("z"), store.MaxQuarantinedRaw+10)))}
	bb := batch("b", "fw")
	bb.Rejected = 1
	bb.Quarantined = []store.Quarantined{quarantined(1, "garbage")}
	commit(t, db, ba, bb)
	commit(t, db, ba) // a replay adds nothing

	qa, next, err := db.Quarantine(ctx, "a", store.QuarantineQuery{})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	if len(qa) != 2 {
		t.Fatalf("workspace a has %d quarantined records, want 2 (replay must not double)", len(qa))
	}
	// newest first: line 5 then line 2
	if qa[0].Line != 5 || !qa[0].Truncated || len(qa[0].Raw) != store.MaxQuarantinedRaw {
		t.Errorf("long record: line %d truncated %v len %d", qa[0].Line, qa[0].Truncated, len(qa[0].Raw))
	}
	if qa[1].Line != 2 || qa[1].Raw != `{"x":` || qa[1].Source != "dc" || qa[1].Format != "json" ||
		qa[1].BatchID != ba.ID.String() || qa[1].RecordID != ba.Quarantined[0].ID.String() || qa[1].Reason == "" {
		t.Errorf("entry: %+v", qa[1])
	}
	qb, _, _ := db.Quarantine(ctx, "b", store.QuarantineQuery{Source: "fw"})
	if len(qb) != 1 || qb[0].Raw != "garbage" {
		t.Fatalf("workspace b: %+v", qb)
	}
	if none, _, _ := db.Quarantine(ctx, "a", store.QuarantineQuery{Source: "fw"}); len(none) != 0 {
		t.Fatalf("workspace a sees b's source: %+v", none)
	}

	// paging
	p1, cur, err := db.Quarantine(ctx, "a", store.QuarantineQuery{Limit: 1})
	if err != nil || len(p1) != 1 || cur == "" {
		t.Fatal(err, len(p1), cur)
	}
	p2, cur2, _ := db.Quarantine(ctx, "a", store.QuarantineQuery{Limit: 1, Cursor: cur})
	if len(p2) != 1 || cur2 != "" || p2[0].ID == p1[0].ID {
		t.Fatalf("page 2: %+v next %q", p2, cur2)
	}
	if _, _, err := db.Quarantine(ctx, "a", store.QuarantineQuery{Cursor: "bogus"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestPurgeQuarantine(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "a")
	for i := 0; i < 5; i++ {
		b := batch("a", "dc")
		b.Received = t0.Add(time.Duration(i) * time.Hour)
		b.Rejected = 1
		b.Quarantined = []store.Quarantined{quarantined(i+1, "bad")}
		commit(t, db, b)
	}
	n, err := db.PurgeQuarantine(ctx, t0.Add(90*time.Minute), 0) // the first two are older
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want 2", n, err)
	}
	n, err = db.PurgeQuarantine(ctx, t0, 2) // cap: keep the newest two
	if err != nil || n != 1 {
		t.Fatalf("capped %d (%v), want 1", n, err)
	}
	left, _, _ := db.Quarantine(ctx, "a", store.QuarantineQuery{})
	if len(left) != 2 || left[0].Line != 5 || left[1].Line != 4 {
		t.Fatalf("left: %+v", left)
	}
}

func TestCompressionSetting(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(ctx, dir+"/x.db", Options{Compression: "lz4"}); err == nil {
		t.Fatal("unknown compression accepted")
	}
	// Blocks written with s2 and with zstd read back from one store.
	s2db := openAt(t, dir+"/v.db", Options{Compression: "s2"})
	mustWorkspace(t, s2db, "a")
	commit(t, s2db, batch("a", "dc", ev("a", "dc", t0, "h1", "u", "192.0.2.1")))
	s2db.Close()
	zdb := openAt(t, dir+"/v.db", Options{})
	commit(t, zdb, batch("a", "dc", ev("a", "dc", t0.Add(time.Second), "h2", "u", "192.0.2.1")))
	if got := allEvents(t, zdb, "a", store.EventQuery{}); len(got) != 2 || got[0].Common[event.HostName] != "h2" || got[1].Common[event.HostName] != "h1" {
		t.Fatalf("events across codecs: %+v", got)
	}
}

// TestQuarantineReasonCapped: a reason that quotes a huge value is kept to
// store.MaxQuarantineReason bytes, cut with an ellipsis and its length.
func TestQuarantineReasonCapped(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "a")
	long := "json: unreadable time stamp \"" + strings.Repeat("é", 450000) + "\" (field time)"
	b := batch("a", "dc")
	b.Rejected = 1
	q := quarantined(1, "{}")
	q.Reason = long
	b.Quarantined = []store.Quarantined{q}
	commit(t, db, b)
	qa, _, err := db.Quarantine(ctx, "a", store.QuarantineQuery{})
	if err != nil || len(qa) != 1 {
		t.Fatal(err, len(qa))
	}
	r := qa[0].Reason
	suffix := "… (reason of " + strconv.Itoa(len(long)) + " bytes cut)"
	if len(r) > store.MaxQuarantineReason+len(suffix) || !strings.HasSuffix(r, suffix) ||
		!strings.HasPrefix(r, "json: unreadable time stamp \"éé") || !utf8.ValidString(r) {
		t.Errorf("reason of %d bytes kept as %d bytes: %.80q…%q", len(long), len(r), r, r[max(0, len(r)-60):])
	}
}
