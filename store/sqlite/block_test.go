package sqlite

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

func blockEvents() []store.StoredEvent {
	a := ev("w", "ssh", t0, "web-1", "root", "203.0.113.7")
	b := ev("w", "ssh", t0.Add(-90*time.Minute+123456789), "web-2", "", "2001:db8::1")
	b.Common[event.Message] = "naïve \x00 binary ✓"
	b.Raw = nil
	c := ev("w", "other", time.Time{}, "web-1", "admin", "") // zero time
	c.Received = time.Date(3000, 1, 1, 0, 0, 0, 5, time.UTC) // beyond int64 nanoseconds
	c.Logsource = event.Logsource{Product: "windows"}
	return []store.StoredEvent{a, b, c}
}

func TestBlockRoundTrip(t *testing.T) {
	want := blockEvents()
	got, err := decodeBlock(encodeBlock(nil, want), "w")
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if want[i].Raw == nil {
			want[i].Raw = []byte{}
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if empty, err := decodeBlock(encodeBlock(nil, nil), "w"); err != nil || len(empty) != 0 {
		t.Errorf("empty block: %v, %d events", err, len(empty))
	}
}

// A truncated or garbled block is an error, never a panic or a wrong event.
func TestBlockCorrupt(t *testing.T) {
	enc := encodeBlock(nil, blockEvents())
	for n := 0; n < len(enc); n++ {
		if _, err := decodeBlock(enc[:n], "w"); !errors.Is(err, errBlock) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want errBlock", n, len(enc), err)
		}
	}
	bad := append([]byte(nil), enc...)
	bad[1] = 0xff // event count: an endless varint
	if _, err := decodeBlock(bad, "w"); !errors.Is(err, errBlock) {
		t.Errorf("garbled count: err = %v", err)
	}
	if _, err := decodeBlock(append(enc[:len(enc):len(enc)], 0), "w"); !errors.Is(err, errBlock) {
		t.Errorf("trailing byte: err = %v", err)
	}
}

func TestCodec(t *testing.T) {
	c, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	raw := encodeBlock(nil, blockEvents())
	for _, kind := range []byte{compZstd, compS2} {
		data := c.compress([]byte("keep"), raw, kind)
		if string(data[:4]) != "keep" {
			t.Fatalf("%c: compress did not append", kind)
		}
		back, err := c.decompress(data[4:])
		if err != nil {
			t.Fatalf("%c: %v", kind, err)
		}
		if string(back) != string(raw) {
			t.Errorf("%c: round trip differs", kind)
		}
	}
	for _, data := range [][]byte{nil, []byte("x123"), []byte("zgarbage"), []byte("sgarbage")} {
		if _, err := c.decompress(data); !errors.Is(err, errBlock) {
			t.Errorf("decompress(%q): err = %v, want errBlock", data, err)
		}
	}
}
