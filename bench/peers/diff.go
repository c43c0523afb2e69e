package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// engineHits is what a child wrote: its accepted rules and its hits.
type engineHits struct {
	titles map[string]string         // accepted rule key → title
	hits   map[string]map[int32]bool // rule key → events
}

func readHits(path string) (*engineHits, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := &engineHits{titles: map[string]string{}, hits: map[string]map[int32]bool{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		switch parts[0] {
		case "R":
			h.titles[parts[1]] = parts[2]
		case "H":
			ev, err := strconv.Atoi(parts[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %v", path, err)
			}
			m := h.hits[parts[2]]
			if m == nil {
				m = map[int32]bool{}
				h.hits[parts[2]] = m
			}
			m[int32(ev)] = true
		}
	}
	return h, sc.Err()
}

// ruleDiff is the difference on one rule between vigil and a peer.
type ruleDiff struct {
	key, title          string
	onlyPeer, onlyVigil []int32
}

func diffRules(vigil, peer *engineHits) (common int, both, vOnCommon, pOnCommon int, diffs []ruleDiff) {
	for key := range vigil.titles {
		if _, ok := peer.titles[key]; !ok {
			continue
		}
		common++
		v, p := vigil.hits[key], peer.hits[key]
		d := ruleDiff{key: key, title: vigil.titles[key]}
		for ev := range v {
			vOnCommon++
			if p[ev] {
				both++
			} else {
				d.onlyVigil = append(d.onlyVigil, ev)
			}
		}
		for ev := range p {
			pOnCommon++
			if !v[ev] {
				d.onlyPeer = append(d.onlyPeer, ev)
			}
		}
		if len(d.onlyPeer)+len(d.onlyVigil) > 0 {
			sortEvents(d.onlyPeer)
			sortEvents(d.onlyVigil)
			diffs = append(diffs, d)
		}
	}
	sort.Slice(diffs, func(i, j int) bool {
		ni := len(diffs[i].onlyPeer) + len(diffs[i].onlyVigil)
		nj := len(diffs[j].onlyPeer) + len(diffs[j].onlyVigil)
		if ni != nj {
			return ni > nj
		}
		return diffs[i].key < diffs[j].key
	})
	return
}

func sortEvents(evs []int32) { sort.Slice(evs, func(i, j int) bool { return evs[i] < evs[j] }) }

func compareHits(o options, outs map[string]string, peers []string) error {
	vigil, err := readHits(outs[engVigil])
	if err != nil {
		return err
	}
	type peerDiff struct {
		name                          string
		common, both, vHits, pHits    int
		diffs                         []ruleDiff
		onlyPeerPairs, onlyVigilPairs int
	}
	var pds []peerDiff
	want := map[int32]bool{} // example events to fetch
	for _, name := range peers {
		ph, err := readHits(outs[name])
		if err != nil {
			return err
		}
		pd := peerDiff{name: name}
		pd.common, pd.both, pd.vHits, pd.pHits, pd.diffs = diffRules(vigil, ph)
		for _, d := range pd.diffs {
			pd.onlyPeerPairs += len(d.onlyPeer)
			pd.onlyVigilPairs += len(d.onlyVigil)
			if len(d.onlyPeer) > 0 {
				want[d.onlyPeer[0]] = true
			}
			if len(d.onlyVigil) > 0 {
				want[d.onlyVigil[0]] = true
			}
		}
		pds = append(pds, pd)
	}
	examples, err := fetchEvents(o.events, want)
	if err != nil {
		return err
	}

	var full io.Writer = io.Discard
	if o.diff != "" {
		f, err := os.Create(o.diff)
		if err != nil {
			return err
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		full = bw
		fmt.Fprintf(full, "# (event, rule) pairs found by only one engine, on the rules both accept.\n# event = line number in %s\n", o.events)
	}

	for _, pd := range pds {
		fmt.Printf("Hits vs %s on the %d rules both accept: both %d, vigil %d, %s %d; only %s: %d pairs on %d rules; only vigil: %d pairs on %d rules\n",
			pd.name, pd.common, pd.both, pd.vHits, pd.name, pd.pHits,
			pd.name, pd.onlyPeerPairs, countRules(pd.diffs, true), pd.onlyVigilPairs, countRules(pd.diffs, false))
		if len(pd.diffs) > 0 {
			fmt.Printf("| rule | only %s | only vigil | example (line) |\n|---|--:|--:|---|\n", pd.name)
		}
		for _, d := range pd.diffs {
			ex := ""
			if len(d.onlyPeer) > 0 {
				ex = fmt.Sprintf("only %s: %d", pd.name, d.onlyPeer[0]+1)
			}
			if len(d.onlyVigil) > 0 {
				if ex != "" {
					ex += "; "
				}
				ex += fmt.Sprintf("only vigil: %d", d.onlyVigil[0]+1)
			}
			fmt.Printf("| %s (%s) | %d | %d | %s |\n", d.key, d.title, len(d.onlyPeer), len(d.onlyVigil), ex)

			fmt.Fprintf(full, "\n## vs %s: %s — %s\n", pd.name, d.key, d.title)
			for _, side := range []struct {
				who string
				evs []int32
			}{{"only " + pd.name, d.onlyPeer}, {"only vigil", d.onlyVigil}} {
				if len(side.evs) == 0 {
					continue
				}
				fmt.Fprintf(full, "%s (%d): %s\n", side.who, len(side.evs), lineList(side.evs))
				fmt.Fprintf(full, "  example %d: %s\n", side.evs[0]+1, examples[side.evs[0]])
			}
		}
		fmt.Println()
	}
	if o.diff != "" {
		fmt.Printf("full diff: %s\n", o.diff)
	}
	return nil
}

func countRules(ds []ruleDiff, peer bool) int {
	n := 0
	for _, d := range ds {
		if (peer && len(d.onlyPeer) > 0) || (!peer && len(d.onlyVigil) > 0) {
			n++
		}
	}
	return n
}

func lineList(evs []int32) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(int(ev) + 1))
	}
	return b.String()
}

// fetchEvents reads the corpus lines of the wanted events.
func fetchEvents(path string, want map[int32]bool) (map[int32]string, error) {
	out := map[int32]string{}
	if len(want) == 0 {
		return out, nil
	}
	c, err := openCorpus(path, 0)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	for len(out) < len(want) {
		first, lines, err := c.next(4096)
		if err != nil {
			return nil, err
		}
		if len(lines) == 0 {
			break
		}
		for i, l := range lines {
			if want[int32(first+i)] {
				out[int32(first+i)] = string(l)
			}
		}
	}
	return out, nil
}
