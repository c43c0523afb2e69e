package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/ingest"
)

// evtxSample reads a sample .evtx file from ../shared (skipping when
// absent); tests copy it to their temporary directory to change it.
func evtxSample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "events", "evtx_samples", name))
	if err != nil {
		t.Skipf("evtx sample %s absent (%v): the samples live in ../shared/data/events/evtx_samples", name, err)
	}
	return data
}

func tailEVTX(t *testing.T, path, start string) (*fakePub, *tail) {
	t.Helper()
	pub := &fakePub{}
	r, err := New(Config{Path: path, CheckpointDir: filepath.Join(filepath.Dir(path), "cp"), StartAt: start, PollInterval: 20 * time.Millisecond},
		ingest.BatcherConfig{Target: ingest.Target{Workspace: "acme", Source: "security", Format: "evtx"}, Publisher: pub}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- r.Run(ctx) }()
	return pub, tl
}

// recordIDs are the EventRecordIDs of the records published.
func recordIDs(t *testing.T, recs []string) []int {
	t.Helper()
	var ids []int
	for _, r := range recs {
		var v struct {
			Event struct {
				System struct{ EventRecordID int }
			}
		}
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			t.Fatalf("record is not evtx_dump JSON: %v: %s", err, r)
		}
		ids = append(ids, v.Event.System.EventRecordID)
	}
	return ids
}

// An .evtx source imports the file by its records; a restart imports
// nothing again; the file growing (a chunk more) brings the new records
// only.
func TestEVTXImportAndGrowth(t *testing.T) {
	data := evtxSample(t, "security.evtx") // 2261 records, 91 in its first chunk
	path := filepath.Join(t.TempDir(), "Security.evtx")
	if err := os.WriteFile(path, data[:4096+65536], 0o644); err != nil {
		t.Fatal(err)
	}
	pub, tl := tailEVTX(t, path, StartBeginning)
	ids := recordIDs(t, pub.waitFor(t, 91))
	tl.stop(t)
	if len(ids) != 91 || ids[0] != 1 || ids[90] != 91 {
		t.Fatalf("first chunk: %d records, want 1…91: %v", len(ids), ids)
	}

	pub, tl = tailEVTX(t, path, StartBeginning)
	if got := pub.waitFor(t, 1); len(got) != 0 {
		t.Errorf("restart read %d records again", len(got))
	}
	if err := os.WriteFile(path, data[:4096+2*65536], 0o644); err != nil {
		t.Fatal(err)
	}
	ids = recordIDs(t, pub.waitFor(t, 86))
	tl.stop(t)
	if len(ids) == 0 || ids[0] != 92 {
		t.Fatalf("after growth: %v, want the records from 92", ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("records out of order or repeated: %v", ids)
		}
	}
}

// start: end passes over the records already in a file seen for the first
// time.
func TestEVTXStartAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Security.evtx")
	if err := os.WriteFile(path, evtxSample(t, "new-user-security.evtx"), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, tl := tailEVTX(t, path, StartEnd)
	time.Sleep(100 * time.Millisecond)
	if got := pub.waitFor(t, 1); len(got) != 0 {
		t.Errorf("start at end published %d records", len(got))
	}
	tl.stop(t)
}
