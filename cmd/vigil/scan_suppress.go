package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/suppress"
)

// scanSuppressions loads the --suppress file: its suppressions apply to
// every file scanned, as a workspace's do in the server.
func scanSuppressions(path string) (*suppress.Set, error) {
	if path == "" {
		return nil, nil
	}
	list, err := suppress.Load(path, time.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("--suppress: %w", err)
	}
	set, errs := suppress.NewSet(list) // Load validated every entry
	if len(errs) > 0 {
		return nil, fmt.Errorf("--suppress %s: %w", path, errs[0])
	}
	return set, nil
}

// suppressedCount sums what the suppressions kept from alerting, by
// suppression, in the order first met.
type suppressedCount struct {
	order []string
	by    map[string]int64
	total int64
}

func (c *suppressedCount) add(hits []suppress.Hit) {
	for _, h := range hits {
		if c.by == nil {
			c.by = map[string]int64{}
		}
		if _, ok := c.by[h.Suppression]; !ok {
			c.order = append(c.order, h.Suppression)
		}
		c.by[h.Suppression] += h.Count
		c.total += h.Count
	}
}

// suppressSignal reports whether set suppresses s (a correlation's signal,
// which has no event), counting it.
func (c *suppressedCount) suppressSignal(set *suppress.Set, s alert.Signal) bool {
	sp := set.Match(s.Rule.ID, s.Entities, nil, time.Now())
	if sp == nil {
		return false
	}
	c.add([]suppress.Hit{{Suppression: sp.ID, Rule: s.Rule.ID, Count: 1, Last: s.Evidence.Time}})
	return true
}

// print says how many signals were suppressed, and by which suppressions.
func (c *suppressedCount) print(w io.Writer, set *suppress.Set) {
	if set.Len() == 0 {
		return
	}
	parts := make([]string, 0, len(c.order))
	for _, id := range c.order {
		parts = append(parts, fmt.Sprintf("%s %d", id, c.by[id]))
	}
	line := fmt.Sprintf("suppressed %d signals with %d suppressions", c.total, set.Len())
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	fmt.Fprintln(w, line)
}
