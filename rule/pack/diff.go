package pack

import (
	"slices"
	"strings"
)

// Diff is what changed between two versions of a pack.
type Diff struct {
	Added   []Entry `json:"added"`
	Removed []Entry `json:"removed"`
	Changed []Entry `json:"changed"` // as in the newer version
	// Same counts the entries present and unchanged in both.
	Same int `json:"same"`
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// diff compares the entries of from and to.
func diff(from, to Manifest) Diff {
	old := make(map[string]Entry, len(from.Entries))
	for _, e := range from.Entries {
		old[e.key()] = e
	}
	var d Diff
	seen := make(map[string]bool, len(to.Entries))
	for _, e := range to.Entries {
		k := e.key()
		seen[k] = true
		o, ok := old[k]
		switch {
		case !ok:
			d.Added = append(d.Added, e)
		case o.Hash != e.Hash:
			d.Changed = append(d.Changed, e)
		default:
			d.Same++
		}
	}
	for _, e := range from.Entries {
		if !seen[e.key()] {
			d.Removed = append(d.Removed, e)
		}
	}
	for _, l := range [][]Entry{d.Added, d.Removed, d.Changed} {
		slices.SortFunc(l, func(a, b Entry) int { return strings.Compare(a.File+a.ID, b.File+b.ID) })
	}
	return d
}
