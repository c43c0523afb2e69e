package api

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
)

// BenchmarkSearchEvents: a search through the API over real Windows
// events (../shared/data) in the suite's store, with a query that
// matches none, so that each request reads, decodes and tests
// MaxScanned events: the scan rate a responder's search runs at.
func BenchmarkSearchEvents(b *testing.B) {
	path := filepath.Join("..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	fh, err := os.Open(path)
	if err != nil {
		b.Skipf("real events absent (%v): the benchmark reads ../shared/data", err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		b.Fatal(err)
	}
	// The suite's store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres).
	db := teststore.Open[fullStore](b)
	f := newFixture(b, db)

	d, _ := decode.New("windows")
	ids := event.NewIDSource()
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	at := t0
	var batch *store.Batch
	flush := func() {
		if batch != nil && len(batch.Events) > 0 {
			if _, err := db.Commit(context.Background(), []*store.Batch{batch}); err != nil {
				b.Fatal(err)
			}
		}
		batch = &store.Batch{ID: ids.New(at), Workspace: "a", Source: "winlog", Format: "windows", Received: at}
	}
	flush()
	var ev event.Event
	ev.Fields.Bind(event.NewDict())
	n := 0
	for sc.Scan() && n < 2*MaxScanned {
		raw := append([]byte(nil), sc.Bytes()...)
		ev.Reset()
		if d.Decode(raw, &ev) != nil {
			continue
		}
		at = at.Add(time.Second)
		se := store.StoredEvent{ID: ids.New(at), Workspace: "a", Source: "winlog", Format: "windows",
			Logsource: ev.Logsource, Time: at, Received: at, Common: ev.Common, Raw: raw}
		batch.Events = append(batch.Events, se)
		if n++; len(batch.Events) == 1000 {
			flush()
		}
	}
	flush()

	u := "/api/v1/events?q=" + url.QueryEscape("EventID:99999 OR process.command_line:*no-such-tool*")
	auth := "Bearer " + f.secrets["a-read"]
	scanned := 0
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, u, nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		var p struct{ Scanned int }
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Scanned != MaxScanned {
			b.Fatalf("status %d: %.200s", w.Code, w.Body)
		}
		scanned += p.Scanned
	}
	b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "events/s")
}
