package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPartitionedCorrelatorsSeeWhatOneSees: matches of many users, hosts
// and a chain, fed to one correlator and, split by MatchPartitions, to
// eight partitioned ones: the partitions' hits together are the single
// correlator's, none twice, and they spread over several partitions.
func TestPartitionedCorrelatorsSeeWhatOneSees(t *testing.T) {
	docs := []string{countRule("    gte: 3") + "---\n", temporalDocs("temporal") + "---\n", strings.ReplaceAll(strings.ReplaceAll(chainDocs(""), "id: id-fail", "id: id-cfail"), "name: fail", "name: cfail")}
	docs[2] = strings.ReplaceAll(docs[2], "rules: [fail]", "rules: [cfail]")
	one := newCorr(t, CorrelatorConfig{}, docs...)
	const parts = 8
	ks := make([]*Correlator, parts)
	for i := range ks {
		ks[i] = newCorr(t, CorrelatorConfig{}, docs...)
		ks[i].SetPartition(i, parts)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	rules := []string{"id-fail", "id-a", "id-b", "id-c", "id-cfail", "id-success"}
	var want, got []string
	hitKey := func(h CorrelationHit) string {
		return fmt.Sprintf("%s %v %s %d", h.Correlation.ID, h.Group, h.Last.Format(time.TimeOnly), h.Events)
	}
	used := map[int]bool{}
	var dst []int
	for i := range 3000 {
		m := randomMatch(one, rnd, rules, 40, i)
		for _, h := range one.Observe(m, nil) {
			want = append(want, hitKey(h))
		}
		dst = one.MatchPartitions(m, parts, dst[:0])
		for _, p := range dst {
			used[p] = true
			for _, h := range ks[p].Observe(m, nil) {
				got = append(got, hitKey(h))
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) < 50 {
		t.Fatalf("only %d hits: the test feeds too little", len(want))
	}
	if !slices.Equal(want, got) {
		t.Fatalf("partitioned hits differ: %d vs %d of one correlator", len(got), len(want))
	}
	if len(used) < parts/2 {
		t.Fatalf("matches went to %d of %d partitions", len(used), parts)
	}
}

// TestMatchPartitionsMissingGroup: a match without a group-by value feeds
// no partition.
func TestMatchPartitionsMissingGroup(t *testing.T) {
	k := newCorr(t, CorrelatorConfig{}, countRule("    gte: 3"))
	if got := k.MatchPartitions(Match{Rule: "id-fail", Workspace: "ws", Values: []string{""}}, 16, nil); len(got) != 0 {
		t.Fatalf("partitions %v for a match without User", got)
	}
	if got := k.MatchPartitions(Match{Rule: "id-other", Workspace: "ws"}, 16, nil); len(got) != 0 {
		t.Fatalf("partitions %v for a rule no correlation refers to", got)
	}
	a := k.MatchPartitions(Match{Rule: "id-fail", Workspace: "ws", Values: []string{"bob"}}, 16, nil)
	b := k.MatchPartitions(Match{Rule: "id-fail", Workspace: "ws", Values: []string{"bob"}}, 16, nil)
	if len(a) != 1 || !slices.Equal(a, b) {
		t.Fatalf("partitions %v then %v for the same key", a, b)
	}
}

// TestStateMovesBetweenOneAndPartitions: one correlator's state shared out
// among partitioned correlators (Restore under SetPartition), and theirs
// gathered back into one (RestoreAll), carry every open window across
// both moves: the hits are those of a correlator that never moved. A
// control that moves without the state misses some.
func TestStateMovesBetweenOneAndPartitions(t *testing.T) {
	docs := []string{countRule("    gte: 3") + "---\n", temporalDocs("temporal") + "---\n", strings.ReplaceAll(strings.ReplaceAll(chainDocs(""), "id: id-fail", "id: id-cfail"), "name: fail", "name: cfail")}
	docs[2] = strings.ReplaceAll(docs[2], "rules: [fail]", "rules: [cfail]")
	const parts = 5
	hitKey := func(h CorrelationHit) string {
		return fmt.Sprintf("%s %v %s %d", h.Correlation.ID, h.Group, h.Last.Format(time.TimeOnly), h.Events)
	}
	snap := func(k *Correlator) []byte {
		data, err := k.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	run := func(carry bool) (want, got []string) {
		rnd := rand.New(rand.NewPCG(3, 4))
		rules := []string{"id-fail", "id-a", "id-b", "id-c", "id-cfail", "id-success"}
		ref := newCorr(t, CorrelatorConfig{}, docs...)
		single := newCorr(t, CorrelatorConfig{}, docs...)
		var ks []*Correlator
		var dst []int
		for i := range 3000 {
			switch i {
			case 1000: // one process → partitioned workers
				data := snap(single)
				shared := 0
				for p := range parts {
					k := newCorr(t, CorrelatorConfig{}, docs...)
					k.SetPartition(p, parts)
					if carry {
						if _, _, err := k.Restore(data); err != nil {
							t.Fatal(err)
						}
					}
					shared += k.Stats().Groups
					ks = append(ks, k)
				}
				// Each open group went to one partition: its own.
				if n := single.Stats().Groups; carry && (shared != n || n == 0) {
					t.Fatalf("%d groups shared out among the partitions, the one correlator held %d", shared, n)
				}
				single = nil
			case 2000: // and back
				var datas [][]byte
				for _, k := range ks {
					datas = append(datas, snap(k))
				}
				single = newCorr(t, CorrelatorConfig{}, docs...)
				if carry {
					if _, _, err := single.RestoreAll(datas...); err != nil {
						t.Fatal(err)
					}
				}
				ks = nil
			}
			m := randomMatch(ref, rnd, rules, 30, i)
			for _, h := range ref.Observe(m, nil) {
				want = append(want, hitKey(h))
			}
			if single != nil {
				for _, h := range single.Observe(m, nil) {
					got = append(got, hitKey(h))
				}
				continue
			}
			dst = ref.MatchPartitions(m, parts, dst[:0])
			for _, p := range dst {
				for _, h := range ks[p].Observe(m, nil) {
					got = append(got, hitKey(h))
				}
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		return want, got
	}
	want, got := run(true)
	if len(want) < 50 {
		t.Fatalf("only %d hits: the test feeds too little", len(want))
	}
	if !slices.Equal(want, got) {
		t.Fatalf("moved with the state: %d hits, %d of a correlator that never moved", len(got), len(want))
	}
	if want, got := run(false); slices.Equal(want, got) {
		t.Fatal("control: moving without the state changed no hit; the test does not reach across the moves")
	}
}

// TestSnapshotTime: a state's time is the latest event its correlator saw.
func TestSnapshotTime(t *testing.T) {
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, countRule("    gte: 3"))}
	f.send("id-fail", 0, map[string]string{"User": "alice"})
	f.send("id-fail", 5*time.Minute, map[string]string{"User": "bob"})
	data, err := f.k.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := SnapshotTime(data); err != nil || got != t0.Add(5*time.Minute).UnixNano() {
		t.Fatalf("SnapshotTime = %d, %v; want the later match's", got, err)
	}
	if _, err := SnapshotTime([]byte("not a state")); err == nil {
		t.Fatal("SnapshotTime read garbage")
	}
}

// randomMatch is the i-th match of a random stream: a rule of rules, one
// of n users and n hosts, two seconds after the one before.
func randomMatch(k *Correlator, rnd *rand.Rand, rules []string, n, i int) Match {
	r := rules[rnd.IntN(len(rules))]
	vals := map[string]string{"User": fmt.Sprintf("u%d", rnd.IntN(n)), "Host": fmt.Sprintf("h%d", rnd.IntN(n))}
	names := k.Fields(r)
	vs := make([]string, len(names))
	for j, name := range names {
		vs[j] = vals[name]
	}
	return Match{Rule: r, Workspace: "ws", Time: t0.Add(time.Duration(i) * 2 * time.Second), Values: vs}
}
