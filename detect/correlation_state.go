package detect

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"slices"
	"strings"
)

// correlatorStateVersion is the version of the encoded correlator state; a
// state of another version is not restored (the windows start empty, as
// they did before state was kept).
const correlatorStateVersion = 1

// correlatorState is a correlator's open windows and event-time
// watermarks, as Snapshot encodes them. Gob, not JSON: group keys and
// values are the events' bytes, which need not be UTF-8.
type correlatorState struct {
	Version      int
	Watermarks   map[string]int64
	Correlations []corrState
}

// corrState is one correlation's groups, in list order (least recently
// active, or oldest window, first). Shape tells whether the correlation
// is still the one whose state this is.
type corrState struct {
	ID, Shape string
	Groups    []groupState
}

type groupState struct {
	Key            string
	First, Last    int64
	Entries        []entryState
	Score          float64
	ScoreAt, Since int64
	N              int
	Chain          []linkState
}

type entryState struct {
	T    int64
	Step int32
	Num  float64
	Str  string
	Ev   []Evidence
	N    int
}

type linkState struct {
	Start, End int64
	Ev         []Evidence
	N          int
}

// shape is what a correlation's state depends on: a window kept under one
// shape means nothing under another (another timespan, grouping, field or
// rule list), so it is dropped at restore.
func (c *corr) shape() string {
	r := c.r
	ids := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		ids[i] = t.ID()
	}
	return fmt.Sprintf("%s|%d|%d|%q|%q|%q|%v|%d", r.Type, r.Timespan, r.HalfLife, r.GroupBy, r.Condition.Field, ids, c.sliding, c.keep)
}

// Snapshot encodes the correlator's open windows, so that a restarted
// process can carry on with them (Restore). It changes nothing.
func (k *Correlator) Snapshot() ([]byte, error) {
	s := correlatorState{Version: correlatorStateVersion, Watermarks: k.wm}
	for _, c := range k.corrs {
		cs := corrState{ID: c.r.ID, Shape: c.shape()}
		for g := c.head; g != nil; g = g.next {
			gs := groupState{Key: g.key, First: g.first, Last: g.last, Score: g.score,
				ScoreAt: g.scoreAt, Since: g.since, N: g.n}
			for _, e := range g.entries {
				gs.Entries = append(gs.Entries, entryState{T: e.t, Step: e.step, Num: e.num, Str: e.str, Ev: e.ev, N: e.n})
			}
			for _, l := range g.chain {
				gs.Chain = append(gs.Chain, linkState{Start: l.start, End: l.end, Ev: l.ev, N: l.n})
			}
			cs.Groups = append(cs.Groups, gs)
		}
		if len(cs.Groups) > 0 {
			s.Correlations = append(s.Correlations, cs)
		}
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&s); err != nil {
		return nil, fmt.Errorf("correlator state: encode: %w", err)
	}
	return b.Bytes(), nil
}

// SnapshotTime is the latest event time the correlator of a Snapshot had
// seen (the greatest of its workspaces' watermarks, in nanoseconds since
// 1970; 0 when it had seen none): of two states of the same windows, the
// later one saw more.
func SnapshotTime(data []byte) (int64, error) {
	s, err := decodeState(data)
	if err != nil {
		return 0, err
	}
	var t int64
	for _, w := range s.Watermarks {
		t = max(t, w)
	}
	return t, nil
}

func decodeState(data []byte) (*correlatorState, error) {
	var s correlatorState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, fmt.Errorf("correlator state: decode: %w", err)
	}
	if s.Version != correlatorStateVersion {
		return nil, fmt.Errorf("correlator state: version %d, want %d", s.Version, correlatorStateVersion)
	}
	return &s, nil
}

// Restore loads a Snapshot into a correlator that has seen no match yet.
// The windows of correlations that are gone, or whose shape changed
// (timespan, group-by, fields, rules), are left out and counted in
// dropped; the group cap holds (the least recently active groups are the
// ones left out past it). A partitioned correlator (SetPartition) takes
// only its partition's groups, so that the partitions share out the state
// of one correlator between them.
func (k *Correlator) Restore(data []byte) (restored, dropped int, err error) {
	return k.RestoreAll(data)
}

// RestoreAll is Restore of several snapshots of disjoint groups, such as
// the partitions' states, into one correlator: their groups are gathered
// and each workspace's watermark is the latest. Nothing is restored when
// one of them cannot be read.
func (k *Correlator) RestoreAll(datas ...[]byte) (restored, dropped int, err error) {
	if k.groups > 0 || len(k.wm) > 0 {
		return 0, 0, fmt.Errorf("correlator state: restore into a correlator in use")
	}
	states := make([]*correlatorState, 0, len(datas))
	for _, data := range datas {
		s, err := decodeState(data)
		if err != nil {
			return 0, 0, err
		}
		states = append(states, s)
	}
	byID := map[string]*corr{}
	for _, c := range k.corrs {
		byID[c.r.ID] = c
	}
	type kept struct {
		c  *corr
		gs *groupState
	}
	var groups []kept
	for _, s := range states {
		for i := range s.Correlations {
			cs := &s.Correlations[i]
			c := byID[cs.ID]
			if c == nil || cs.Shape != c.shape() {
				dropped += len(cs.Groups)
				continue
			}
			for j := range cs.Groups {
				gs := &cs.Groups[j]
				if k.parts > 0 && partitionOf(c, []byte(gs.Key), k.parts) != k.part {
					continue // another partition's
				}
				groups = append(groups, kept{c, gs})
			}
		}
	}
	if len(states) > 1 {
		// Each state's lists are in time order (sweep relies on it):
		// merged, they must be too.
		slices.SortStableFunc(groups, func(a, b kept) int {
			return cmp.Compare(a.c.listTime(a.gs), b.c.listTime(b.gs))
		})
	}
	// Past the cap, the groups kept are the most recent of each
	// correlation's list, as eviction would have chosen (roughly).
	skip := max(len(groups)-k.cfg.MaxGroups, 0)
	for _, kg := range groups {
		c, gs := kg.c, kg.gs
		if skip > 0 {
			skip--
			dropped++
			continue
		}
		g := &group{key: strings.Clone(gs.Key), c: c, first: gs.First, last: gs.Last,
			score: gs.Score, scoreAt: gs.ScoreAt, since: gs.Since, n: gs.N}
		for _, e := range gs.Entries {
			g.entries = append(g.entries, entry{t: e.T, step: e.Step, num: e.Num, str: e.Str, ev: e.Ev, n: e.N})
		}
		if len(g.entries) > c.keep {
			g.entries = slices.Delete(g.entries, 0, len(g.entries)-c.keep)
		}
		if len(gs.Chain) != len(c.r.Rules) {
			gs.Chain = nil // not this correlation's chain: start it anew
		}
		for _, l := range gs.Chain {
			g.chain = append(g.chain, link{start: l.Start, end: l.End, ev: l.Ev, n: l.N})
		}
		if old := c.groups[g.key]; old != nil {
			k.drop(old) // a corrupt state naming a key twice: the later wins
		}
		c.groups[g.key] = g
		c.push(g)
		k.groups++
		restored++
	}
	for _, s := range states {
		for ws, t := range s.Watermarks {
			if cur, ok := k.wm[ws]; !ok || t > cur {
				k.wm[ws] = t
			}
		}
	}
	return restored, dropped, nil
}

// listTime is what c's list of groups is ordered by: the last match of a
// sliding window, the start of a fixed one.
func (c *corr) listTime(gs *groupState) int64 {
	if c.sliding {
		return gs.Last
	}
	return gs.First
}
