//go:build crashpoint

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/store"
)

// crashAfterCommits, in test builds (-tags crashpoint), makes the process
// exit right after the commit that brings the commits with new batches to
// VIGIL_CRASH_AFTER_COMMITS, before the bus hears of it: the batches are
// stored and not acknowledged, as after a crash at the worst moment.
func crashAfterCommits(c analysis.Committer) analysis.Committer {
	n, err := strconv.Atoi(os.Getenv("VIGIL_CRASH_AFTER_COMMITS"))
	if err != nil || n <= 0 {
		return c
	}
	return &crashingCommitter{c: c, left: n}
}

type crashingCommitter struct {
	c    analysis.Committer
	mu   sync.Mutex
	left int
}

func (cc *crashingCommitter) Commit(ctx context.Context, batches []*store.Batch) (int, error) {
	cc.mu.Lock() // one commit at a time, so that none is acknowledged after the last
	defer cc.mu.Unlock()
	n, err := cc.c.Commit(ctx, batches)
	if err == nil && n > 0 {
		if cc.left--; cc.left == 0 {
			fmt.Fprintf(os.Stderr, "crashpoint: exit after a commit of %d new batches, before their acknowledgement\n", n)
			os.Exit(3)
		}
	}
	return n, err
}
