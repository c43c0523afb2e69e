package detect

import (
	"hash/fnv"
	"slices"
)

// Partitioned correlation: several correlators, each owning a fixed share
// of the groups, see between them what one correlator would. A group's
// partition is a hash of its correlation and group key (workspace and
// group-by values) modulo the number of partitions; the correlations of a
// chain hash their chain's id instead, because an outer correlation's
// group gathers hits of inner groups with other keys.

// SetPartition restricts the correlator to the groups of partition part
// of parts: the matches of other partitions' groups are ignored. parts 0
// lifts the restriction.
func (k *Correlator) SetPartition(part, parts int) {
	k.part, k.parts = part, parts
}

// MatchPartitions appends to dst the partitions (of parts) whose groups m
// feeds, each once, in ascending order: the correlators of those
// partitions must see m. A match that feeds no group (no correlation
// refers to its rule, or a group-by value is missing) has none.
func (k *Correlator) MatchPartitions(m Match, parts int, dst []int) []int {
	if parts <= 0 {
		return dst
	}
	start := len(dst)
	var key []byte
	for _, f := range k.feeds[m.Rule] {
		key = append(key[:0], m.Workspace...)
		missing := false
		for _, i := range f.group {
			v := ""
			if i < len(m.Values) {
				v = m.Values[i]
			}
			if v == "" {
				missing = true
				break
			}
			key = append(key, 0)
			key = append(key, v...)
		}
		if missing {
			continue
		}
		p := partitionOf(f.c, key, parts)
		if !slices.Contains(dst[start:], p) {
			dst = append(dst, p)
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// partitionOf is the partition of c's group key.
func partitionOf(c *corr, key []byte, parts int) int {
	h := fnv.New64a()
	if c.unit != "" {
		h.Write([]byte(c.unit))
	} else {
		h.Write([]byte(c.r.ID))
		h.Write([]byte{0})
		h.Write(key)
	}
	return int(h.Sum64() % uint64(parts))
}

// chainUnits names each chain of correlations (those linked by out, in
// either direction) by the least id among them.
func (k *Correlator) chainUnits() {
	parent := map[*corr]*corr{}
	var find func(c *corr) *corr
	find = func(c *corr) *corr {
		p, ok := parent[c]
		if !ok || p == c {
			return c
		}
		r := find(p)
		parent[c] = r
		return r
	}
	chained := map[*corr]bool{}
	for _, c := range k.corrs {
		for _, f := range c.out {
			chained[c], chained[f.c] = true, true
			a, b := find(c), find(f.c)
			if a != b {
				parent[a] = b
			}
		}
	}
	least := map[*corr]string{}
	for c := range chained {
		r := find(c)
		if id, ok := least[r]; !ok || c.r.ID < id {
			least[r] = c.r.ID
		}
	}
	for c := range chained {
		c.unit = "chain\x00" + least[find(c)]
	}
}
