package detect

import (
	"math"
	"testing"
	"time"
)

func decayRule(extra string) string {
	return base("fail") + `title: slow guessing
id: corr-decay
correlation:
  type: decayed_count
  rules: [fail]
  group-by: [Src]
  half-life: 1h
` + extra
}

// Two failures every ten minutes never make 10 in a 10-minute window, but
// a score halving every hour climbs to about 2/(1-2^(-1/6)) ≈ 18.3; 10 is
// reached after a bit over an hour of it.
func TestDecayedCountCatchesSlowAttempts(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, decayRule("  condition:\n    gte: 10\n"))
	f := &feeder{t: t, k: k}
	var hitAt time.Duration = -1
	for i := 0; i < 24 && hitAt < 0; i++ {
		at := time.Duration(i) * 10 * time.Minute
		for j := range 2 {
			if f.send("id-fail", at+time.Duration(j)*time.Second, map[string]string{"Src": "203.0.113.9"}) > 0 {
				hitAt = at
			}
		}
	}
	if hitAt < 0 {
		t.Fatal("no hit over four hours of two attempts every ten minutes")
	}
	// Exact: after n rounds at 10-minute steps the score is
	// 2 * sum_{i<n} r^i with r = 2^(-1/6); find the first n with ≥ 10.
	r := math.Exp2(-1.0 / 6)
	score, rounds := 0.0, 0
	for score < 10 {
		score = score*r + 2
		rounds++
	}
	if want := time.Duration(rounds-1) * 10 * time.Minute; hitAt != want {
		t.Errorf("hit at %v, want %v (score %.2f after %d rounds)", hitAt, want, score, rounds)
	}
	h := f.hits[0]
	if h.Events != 2*rounds || !h.First.Equal(t0) || h.Value < 10 || h.Value > 11 {
		t.Errorf("hit: events %d first %v value %.2f, want %d from %v", h.Events, h.First, h.Value, 2*rounds, t0)
	}
	if len(h.Group) != 1 || h.Group[0].Value != "203.0.113.9" {
		t.Errorf("group %v", h.Group)
	}
	if len(h.Evidence) != min(20, 2*rounds) || h.Evidence[len(h.Evidence)-1].Line != 2*rounds {
		t.Errorf("%d evidence ending at line %d, want the latest %d", len(h.Evidence), h.Evidence[len(h.Evidence)-1].Line, min(20, 2*rounds))
	}
}

// The same number of attempts spread thinly enough never adds up: one a
// half-life apart keeps the score under 2.
func TestDecayedCountForgetsSparseAttempts(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, decayRule("  condition:\n    gte: 3\n"))
	f := &feeder{t: t, k: k}
	for i := range 50 {
		if f.send("id-fail", time.Duration(i)*time.Hour, map[string]string{"Src": "a"}) > 0 {
			t.Fatalf("hit at attempt %d: one attempt an hour never reaches 3 with a one-hour half-life", i)
		}
	}
	// The score hovers just under 2; two at once make it ≈ 3 (the first
	// of them fades the rest by half first: 2·½+1+1 = 3 less a hair), a
	// third does it.
	f.send("id-fail", 50*time.Hour, map[string]string{"Src": "a"})
	if f.send("id-fail", 50*time.Hour, map[string]string{"Src": "a"}) != 0 {
		t.Error("hit below the bound")
	}
	if f.send("id-fail", 50*time.Hour, map[string]string{"Src": "a"}) != 1 {
		t.Error("three more attempts at once (score ≈ 4) did not hit")
	}
	// Sources are counted apart, and a hit starts the score again.
	if f.send("id-fail", 50*time.Hour, map[string]string{"Src": "b"}) != 0 ||
		f.send("id-fail", 50*time.Hour, map[string]string{"Src": "a"}) != 0 {
		t.Error("a hit on another source, or right after a hit")
	}
}

// With a field, distinct values count, each by its latest match: one
// source trying many users (spraying), slowly.
func TestDecayedCountDistinctValues(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, decayRule("  condition:\n    gte: 4\n    field: User\n"))
	f := &feeder{t: t, k: k}
	// The same user over and over: one value, never 4.
	for i := range 30 {
		if f.send("id-fail", time.Duration(i)*time.Minute, map[string]string{"Src": "s", "User": "root"}) > 0 {
			t.Fatal("one user tried 30 times counted as several users")
		}
	}
	// Four more users, 20 minutes apart: root (last at 29m) has faded to
	// under a half by the end, so it takes the fourth new one.
	users := []string{"admin", "oracle", "test", "ubuntu"}
	got := -1
	for i, u := range users {
		if f.send("id-fail", 60*time.Minute+time.Duration(i)*20*time.Minute, map[string]string{"Src": "s", "User": u}) > 0 {
			got = i
		}
	}
	// At the 3rd new user (100m): root 2^(-71/60)≈0.44 + admin 0.63 + oracle 0.79 + test 1 = 2.86; at the 4th (120m): 0.35+0.5+0.63+0.79+1 = 3.27 < 4.
	if got != -1 {
		t.Fatalf("hit at user %d; the decayed distinct count stays under 4", got)
	}
	// A burst of four more distinct users at once crosses it.
	hit := false
	for _, u := range []string{"a1", "a2", "a3", "a4"} {
		if f.send("id-fail", 121*time.Minute, map[string]string{"Src": "s", "User": u}) > 0 {
			hit = true
		}
	}
	if !hit {
		t.Fatal("eight users in two hours, four of them at once, did not hit")
	}
	if h := f.hits[0]; h.Events < 5 {
		t.Errorf("hit events %d", h.Events)
	}
}

// An idle group is forgotten after the timespan (default ten half-lives),
// so memory stays bounded by the sources seen recently.
func TestDecayedCountExpiresIdleGroups(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, decayRule("  condition:\n    gte: 100\n"))
	f := &feeder{t: t, k: k}
	for i := range 100 {
		f.send("id-fail", 0, map[string]string{"Src": string(rune('a' + i%26)), "": ""})
	}
	if g := k.Stats().Groups; g != 26 {
		t.Fatalf("%d groups, want 26", g)
	}
	f.send("id-fail", 10*time.Hour+time.Second, map[string]string{"Src": "z2"})
	if s := k.Stats(); s.Groups != 1 || s.Expired != 26 {
		t.Errorf("after ten idle half-lives: %d groups, %d expired; want 1 and 26", s.Groups, s.Expired)
	}
}

// A late match (within lateness) counts what it is worth at the score's
// time.
func TestDecayedCountLateMatch(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{Lateness: 2 * time.Hour}, decayRule("  condition:\n    gte: 2.4\n"))
	f := &feeder{t: t, k: k}
	f.send("id-fail", 2*time.Hour, map[string]string{"Src": "a"}) // 1
	f.send("id-fail", 2*time.Hour, map[string]string{"Src": "a"}) // 2
	// One hour earlier: worth 0.5 → 2.5 ≥ 2.4.
	if f.send("id-fail", time.Hour, map[string]string{"Src": "a"}) != 1 {
		t.Fatal("late match not counted at its decayed weight")
	}
	if h := f.hits[0]; !h.First.Equal(t0.Add(time.Hour)) || h.Events != 3 {
		t.Errorf("first %v events %d", h.First, h.Events)
	}
}
