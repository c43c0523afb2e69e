package bus

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

var testIDs = event.NewIDSource()

func testBatch(t testing.TB, n, size int) *Batch {
	t.Helper()
	now := time.Date(2026, 11, 27, 16, 0, 0, 123456789, time.UTC)
	b := &Batch{ID: testIDs.New(now), Workspace: "acme", Source: "winlog", Format: "json", Received: now}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	for i := 0; i < n; i++ {
		var sb strings.Builder
		sb.WriteString(`{"EventID":4624,"Computer":"host-`)
		for sb.Len() < size {
			sb.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.Records = append(b.Records, event.Raw{Data: []byte(sb.String())[:size], Line: i + 1})
	}
	testIDs.Fill(now, b.Records)
	return b
}

func equalBatch(t *testing.T, want, got *Batch) {
	t.Helper()
	if got.ID != want.ID || got.Workspace != want.Workspace || got.Source != want.Source || got.Format != want.Format {
		t.Fatalf("header: got %s %q %q %q, want %s %q %q %q", got.ID, got.Workspace, got.Source, got.Format,
			want.ID, want.Workspace, want.Source, want.Format)
	}
	if !got.Received.Equal(want.Received) {
		t.Fatalf("received: got %v, want %v", got.Received, want.Received)
	}
	if len(got.Records) != len(want.Records) {
		t.Fatalf("records: got %d, want %d", len(got.Records), len(want.Records))
	}
	for i := range want.Records {
		w, g := want.Records[i], got.Records[i]
		if g.ID != w.ID || g.Line != w.Line || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d: got {%s %d %q}, want {%s %d %q}", i, g.ID, g.Line, trunc(g.Data), w.ID, w.Line, trunc(w.Data))
		}
	}
}

func trunc(p []byte) []byte {
	if len(p) > 40 {
		return p[:40]
	}
	return p
}

func TestCodecRoundTrip(t *testing.T) {
	big := testBatch(t, 3, 0)
	big.Records[1].Data = bytes.Repeat([]byte(`{"k":"v"},`), 300_000) // 3 MB, compressible
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rand.Uint32())
	}
	big.Records[2].Data = random // incompressible

	cases := map[string]*Batch{
		"empty":          {ID: testIDs.New(time.Now())},
		"empty records":  {ID: testIDs.New(time.Now()), Workspace: "w", Source: "s", Format: "f", Received: time.Unix(1, 5).UTC(), Records: []event.Raw{}},
		"one empty data": {ID: testIDs.New(time.Now()), Workspace: "w", Records: []event.Raw{{ID: testIDs.New(time.Now()), Line: 0}}},
		"small":          testBatch(t, 3, 20),
		"typical":        testBatch(t, 1000, 1200),
		"big records":    big,
		"pre-1970":       {ID: testIDs.New(time.Now()), Workspace: "w", Received: time.Date(1960, 1, 1, 0, 0, 0, 7, time.UTC)},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := want.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Batch
			if err := got.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			equalBatch(t, want, &got)
			if want.Received.IsZero() != got.Received.IsZero() {
				t.Fatalf("zero received time: got %v", got.Received)
			}
		})
	}
}

func TestCodecCompresses(t *testing.T) {
	b := testBatch(t, 500, 1200)
	for i := range b.Records { // JSON-like repetition, as real events have
		b.Records[i].Data = []byte(strings.Repeat(`{"EventID":4624,"Channel":"Security","Computer":"WIN-DC01"}`, 20))
	}
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if data[sectionKindOffset(t, data)] != sectionS2 {
		t.Fatalf("repetitive records were not compressed")
	}
	if len(data)*4 > b.Bytes() {
		t.Fatalf("encoded %d bytes for %d bytes of repetitive data; want at least 4x smaller", len(data), b.Bytes())
	}
}

// sectionKindOffset finds the section kind byte by walking the header.
func sectionKindOffset(t *testing.T, data []byte) int {
	d := decoder{buf: data}
	d.byte("v")
	d.bytes("id", 16)
	d.name("w")
	d.name("s")
	d.name("f")
	d.varint("sec")
	d.uvarint("nsec")
	d.uvarint("count")
	if d.err != nil {
		t.Fatal(d.err)
	}
	return d.off
}

func TestCodecAppendReusesBuffer(t *testing.T) {
	b := testBatch(t, 100, 500)
	buf, err := b.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.AppendBinary(buf[:0])
	if err != nil {
		t.Fatal(err)
	}
	if &again[0] != &buf[0] {
		t.Errorf("AppendBinary reallocated a buffer that was large enough")
	}
	prefix := []byte("xyz")
	out, err := b.AppendBinary(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:3], prefix) {
		t.Fatalf("prefix overwritten: %q", out[:3])
	}
	var got Batch
	if err := got.UnmarshalBinary(out[3:]); err != nil {
		t.Fatal(err)
	}
	equalBatch(t, b, &got)
	if allocs := testing.AllocsPerRun(20, func() { out, _ = b.AppendBinary(out[:0]) }); allocs > 0 && !raceEnabled {
		t.Errorf("AppendBinary into a large enough buffer: %.0f allocations, want 0", allocs)
	}
}

func TestCodecEncodeErrors(t *testing.T) {
	b := testBatch(t, 2, 10)
	b.Records[1].Line = -1
	if _, err := b.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "record 1: negative line") {
		t.Fatalf("negative line: got %v", err)
	}
	b = testBatch(t, 1, 10)
	b.Source = strings.Repeat("s", MaxNameLen+1)
	if _, err := b.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "source is 1025 bytes") {
		t.Fatalf("long source: got %v", err)
	}
}

func TestCodecRejectsGarbage(t *testing.T) {
	good, err := testBatch(t, 5, 100).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := testBatch(t, 2, 10).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	kind := sectionKindOffset(t, stored)
	if stored[kind] != sectionStored {
		t.Fatalf("tiny batch should be stored uncompressed")
	}
	mutate := func(p []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(p)) }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bus: decode batch: version at offset 0: truncated"},
		{"version", mutate(good, func(p []byte) []byte { p[0] = 9; return p }), "unknown version 9"},
		{"truncated id", good[:10], "id at offset 1: needs 16 bytes, 9 left"},
		{"name too long", append(append([]byte{1}, make([]byte, 16)...), binary.AppendUvarint(nil, 5000)...), "workspace at offset 19: length 5000 exceeds 1024"},
		{"truncated header", good[:20], "bus: decode batch: workspace at offset 18: needs 4 bytes, 2 left"},
		{"section kind", mutate(stored, func(p []byte) []byte { p[kind] = 7; return p }), "unknown section kind 7"},
		{"bad s2", mutate(good, func(p []byte) []byte { return p[:len(p)-5] }), "record section"},
		{"trailing", append(bytes.Clone(stored), 0, 0, 0), "trailing bytes"},
		{"truncated record", stored[:len(stored)-3], "record 1: data length at record section offset 46: 10 exceeds the 7 bytes left"},
		{"count too big", mutate(stored, func(p []byte) []byte { p[kind-1] = 100; return p }), "record count 100 does not fit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b Batch
			err := b.UnmarshalBinary(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
		})
	}
}

func FuzzBatchUnmarshal(f *testing.F) {
	for _, b := range []*Batch{{}, testBatch(f, 1, 5), testBatch(f, 3, 100), testBatch(f, 20, 300)} {
		data, err := b.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Batch
		if err := b.UnmarshalBinary(data); err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same batch.
		again, err := b.MarshalBinary()
		if err != nil {
			if strings.Contains(err.Error(), "negative line") {
				t.Fatalf("decoded a negative line")
			}
			return
		}
		var b2 Batch
		if err := b2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		equalBatch(t, &b, &b2)
	})
}

func BenchmarkCodec(b *testing.B) {
	batch := benchBatch(b, 1000)
	data, _ := batch.MarshalBinary()
	b.Logf("1000 records: %d bytes raw, %d encoded (%.1fx)", batch.Bytes(), len(data), float64(batch.Bytes())/float64(len(data)))
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(batch.Bytes()))
		var buf []byte
		for b.Loop() {
			buf, _ = batch.AppendBinary(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(batch.Bytes()))
		var out Batch
		for b.Loop() {
			if err := out.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestCodecDecodesIntoScratch(t *testing.T) {
	big, small := testBatch(t, 50, 400), testBatch(t, 5, 200)
	encBig, err := big.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	encSmall, err := small.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Batch
	buf, err := got.unmarshal(encBig, nil)
	if err != nil {
		t.Fatal(err)
	}
	equalBatch(t, big, &got)
	if buf == nil || cap(buf) < len(buf)+len(buf)/4 {
		t.Fatalf("decompressed buffer: got cap %d for %d bytes, want room for a larger batch", cap(buf), len(buf))
	}
	// A smaller batch decodes into the same memory.
	var again Batch
	buf2, err := again.unmarshal(encSmall, buf)
	if err != nil {
		t.Fatal(err)
	}
	equalBatch(t, small, &again)
	if &buf2[:1][0] != &buf[:1][0] {
		t.Fatal("a scratch buffer large enough was not used")
	}
	// One too small is replaced, not overrun.
	var third Batch
	buf3, err := third.unmarshal(encBig, make([]byte, 10))
	if err != nil {
		t.Fatal(err)
	}
	equalBatch(t, big, &third)
	if len(buf3) < big.Bytes() {
		t.Fatalf("decompressed buffer of %d bytes for %d bytes of records", len(buf3), big.Bytes())
	}
	// A stored (uncompressed) section aliases the message, no buffer.
	tiny := testBatch(t, 1, 20)
	tiny.Records[0].Data = []byte("x")
	encTiny, _ := tiny.MarshalBinary()
	var fourth Batch
	if b, err := fourth.unmarshal(encTiny, buf); err != nil || b != nil {
		t.Fatalf("stored section: got buffer %v, err %v; want none", b != nil, err)
	}
	equalBatch(t, tiny, &fourth)
}
