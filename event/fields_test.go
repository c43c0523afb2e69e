package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestClosedDictStoresOnlyItsNames(t *testing.T) {
	d := NewDict("Image", "CommandLine")
	var f Fields
	f.Bind(d)
	if !f.SetName([]byte("Image"), `C:\x.exe`) || f.SetName([]byte("Other"), "y") {
		t.Fatal("a closed dict must take its own names and refuse others")
	}
	if id, ok := d.ID("Other"); ok {
		t.Fatalf("closed dict interned a name on lookup: %d", id)
	}
	id, _ := d.ID("Image")
	if v, ok := f.Get(id); !ok || v != `C:\x.exe` {
		t.Fatalf("Get = %q %v", v, ok)
	}
	if f.Len() != 1 {
		t.Fatalf("Len = %d", f.Len())
	}
}

func TestFieldsResetAndMultiValues(t *testing.T) {
	d := NewOpenDict()
	var f Fields
	f.Bind(d)
	a, _ := d.ID("a")
	b, _ := d.ID("b")
	f.Set(a, "1")
	f.Set(a, "2")
	f.Set(b, "x")
	var got []string
	f.Each(a, func(v string) bool { got = append(got, v); return true })
	if strings.Join(got, ",") != "1,2" || !f.Multi(a) || f.Multi(b) {
		t.Fatalf("values of a = %v multi %v/%v", got, f.Multi(a), f.Multi(b))
	}
	f.Reset()
	if f.Has(a) || f.Has(b) || f.Len() != 0 {
		t.Fatal("Reset left fields present")
	}
	f.Set(b, "y")
	if v, _ := f.Get(b); v != "y" || f.Has(a) {
		t.Fatalf("after reset: b=%q has(a)=%v", v, f.Has(a))
	}
	// A wrapped generation clears for real instead of resurrecting values.
	f.gen = ^uint32(0)
	f.Reset()
	if f.Has(b) {
		t.Fatal("generation wrap resurrected a value")
	}
}

func TestEventGetOwnFieldBeforeCommon(t *testing.T) {
	d := NewDict("user.name", "Image")
	var e Event
	e.Fields.Bind(d)
	e.Common[UserName] = "ecs-user"
	if v, _ := e.Get("user.name"); v != "ecs-user" {
		t.Fatalf("falls back to the ECS field: %q", v)
	}
	id, _ := d.ID("user.name")
	e.Fields.Set(id, "own-user")
	if v, _ := e.Get("user.name"); v != "own-user" {
		t.Fatalf("a source's own field wins: %q", v)
	}
	if _, ok := e.Get("host.name"); ok {
		t.Fatal("absent field reported present")
	}
}

func TestEventJSONForm(t *testing.T) {
	d := NewOpenDict()
	var e Event
	e.Fields.Bind(d)
	e.ID = NewID()
	e.Workspace, e.Source, e.Format = "acme", "dc01", "windows"
	e.Logsource = Logsource{Product: "windows", Service: "security"}
	e.Time = time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	e.Received = time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	e.Common[SourceIP] = "192.0.2.1"
	e.Fields.SetName([]byte("CommandLine"), "cmd.exe /c \"echo <hi>\"\n\xff")
	e.Fields.SetName([]byte("Tag"), "a")
	e.Fields.SetName([]byte("Tag"), "b")
	var m map[string]any
	if err := json.Unmarshal(e.AppendJSON(nil), &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, e.AppendJSON(nil))
	}
	if m["id"] != e.ID.String() || m["workspace"] != "acme" || m["source.ip"] != "192.0.2.1" ||
		m["@timestamp"] != "2026-01-02T02:04:05.0000006Z" || m["received"] != "2026-01-02T03:04:06Z" {
		t.Fatalf("JSON form: %v", m)
	}
	ls := m["logsource"].(map[string]any)
	if ls["product"] != "windows" || ls["service"] != "security" || ls["category"] != nil {
		t.Fatalf("logsource: %v", ls)
	}
	f := m["fields"].(map[string]any)
	if !strings.HasPrefix(f["CommandLine"].(string), `cmd.exe /c "echo <hi>"`) {
		t.Fatalf("escaping lost the value: %q", f["CommandLine"])
	}
	if tags, _ := f["Tag"].([]any); len(tags) != 2 || tags[1] != "b" {
		t.Fatalf("multi-valued field: %v", f["Tag"])
	}
}

func TestIDsIncreaseAndSubIDsAreStable(t *testing.T) {
	src := NewIDSource()
	now := time.Now()
	recs := make([]Raw, 1000)
	src.Fill(now, recs)
	for i := 1; i < len(recs); i++ {
		if recs[i].ID.Compare(recs[i-1].ID) <= 0 {
			t.Fatalf("ids not increasing at %d", i)
		}
	}
	id := recs[0].ID
	if SubID(id, 0) != id || SubID(id, 3) != SubID(id, 3) || SubID(id, 1) == SubID(id, 2) {
		t.Fatal("SubID: 0 must be the id itself, others stable and distinct")
	}
	if SubID(id, 1).Time() != id.Time() {
		t.Fatal("SubID must keep the record's time")
	}
	if _, err := ParseID(id.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseID("not-an-id"); err == nil {
		t.Fatal("ParseID accepted garbage")
	}
}

func TestFillDoesNotAllocate(t *testing.T) {
	src := NewIDSource()
	recs := make([]Raw, 100)
	now := time.Now()
	if n := testing.AllocsPerRun(20, func() { src.Fill(now, recs) }); n != 0 {
		t.Fatalf("Fill allocates %v times for 100 records", n)
	}
}

// FillIDs numbers a chunk from the process-wide source: after the ids
// NewID gave before it, increasing, stamped with the current time.
func TestFillIDsFollowNewID(t *testing.T) {
	before := NewID()
	recs := make([]Raw, 100)
	FillIDs(recs)
	prev := before
	for i, r := range recs {
		if r.ID.Compare(prev) <= 0 {
			t.Fatalf("id %d not after the one before it", i)
		}
		prev = r.ID
	}
	if d := time.Since(time.UnixMilli(int64(recs[0].ID.Time()))); d < 0 || d > time.Minute {
		t.Fatalf("id time %d ms, want now", recs[0].ID.Time())
	}
}
