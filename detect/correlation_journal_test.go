package detect

import (
	"reflect"
	"testing"
	"time"
)

func TestMatchesRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123, time.UTC)
	ms := []Match{
		{Rule: "r1", Workspace: "acme", Time: at, Values: []string{"10.0.0.1", "", "bob\xff"},
			Evidence: Evidence{EventID: "01J", Time: at}},
		{Rule: "r2", Workspace: "w", Time: at.Add(time.Second), Evidence: Evidence{File: "a.log", Line: 42, Time: at.Add(time.Second)}},
	}
	got, err := DecodeMatches(AppendMatches(nil, ms))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ms) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, ms)
	}
	if got, err := DecodeMatches(AppendMatches(nil, nil)); err != nil || len(got) != 0 {
		t.Fatalf("no matches: %v %v", got, err)
	}
	enc := AppendMatches(nil, ms)
	for i := range len(enc) {
		if _, err := DecodeMatches(enc[:i]); err == nil {
			t.Fatalf("cut at %d of %d bytes decoded without error", i, len(enc))
		}
	}
}

func FuzzDecodeMatches(f *testing.F) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	f.Add(AppendMatches(nil, []Match{{Rule: "r", Workspace: "w", Time: at, Values: []string{"x"}}}))
	f.Add([]byte{1, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := DecodeMatches(data)
		if err != nil {
			return
		}
		again, err := DecodeMatches(AppendMatches(nil, ms))
		if err != nil || len(again) != len(ms) {
			t.Fatalf("re-encoding %d matches: %d, %v", len(ms), len(again), err)
		}
	})
}
