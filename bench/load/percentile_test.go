package main

import (
	"testing"
	"time"
)

func TestPercentilesNearestRank(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- { // unsorted on purpose
		l.add(time.Duration(i) * time.Millisecond)
	}
	got := l.percentiles(.5, .9, .99, 1)
	want := []time.Duration{50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("percentile %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if l.d[0] != 100*time.Millisecond {
		t.Error("percentiles sorted the samples in place")
	}
}

func TestPercentilesSmallAndEmpty(t *testing.T) {
	var l latencies
	if p := l.percentiles(.5, .99); p[0] != 0 || p[1] != 0 {
		t.Fatalf("empty: %v", p)
	}
	l.add(7 * time.Second)
	if p := l.percentiles(.01, .5, 1); p[0] != 7*time.Second || p[2] != 7*time.Second {
		t.Fatalf("one sample: %v", p)
	}
	l.add(time.Second)
	l.add(3 * time.Second)
	// ranks: p50 of 3 is the 2nd, p99 the 3rd
	if p := l.percentiles(.5, .99); p[0] != 3*time.Second || p[1] != 7*time.Second {
		t.Fatalf("three samples: %v", p)
	}
}
