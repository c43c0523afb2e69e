package main

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestScanRecordBlocksReused: scan gives a chunk's record blocks back once
// its result is merged, and copies the next records into them. Nothing of
// a chunk (alerts, correlation matches, rejections, a decoder's state) may
// still read those bytes: on every sample file of ../shared/data, a scan
// whose given-back blocks are overwritten gives the alerts and rejections
// of a scan with fresh blocks, on one worker and on two.
func TestScanRecordBlocksReused(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared data not found at %s: %v", root, err)
	}
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == "sigma" || d.Name() == "geoip" {
				return filepath.SkipDir // rules and databases, not logs
			}
			return nil
		}
		info, err := d.Info()
		ext := strings.ToLower(filepath.Ext(path))
		if err != nil || info.Size() > 8<<20 || ext == ".evtx" || ext == ".md" || ext == ".mmdb" || ext == ".yml" || ext == ".yaml" || ext == ".png" {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if len(files) < 20 {
		t.Skipf("only %d sample files under %s", len(files), root)
	}
	rl := newRuleLoader(&Config{}, slog.New(slog.DiscardHandler), 0)
	rl.refresh()
	rs, _ := rl.build()
	scan := func(pool *blockPool, workers int) string {
		var out []string
		sc := newScanner(rs, "scan", workers, nil, func(r scanResult) {
			for _, x := range r.res.Rejected {
				out = append(out, fmt.Sprintf("%s:%d rejected %s", filepath.Base(r.name), x.Line, x.Reason))
			}
			for _, s := range r.res.Batch.Signals {
				out = append(out, fmt.Sprintf("%s %s %v %s %s:%d", s.Rule.Title, s.DedupKey, s.Entities, s.Evidence.Time, filepath.Base(s.Evidence.File), s.Evidence.Line))
			}
			for _, m := range r.res.Matches {
				out = append(out, fmt.Sprintf("match %s %v %s", m.Rule, m.Values, m.Time))
			}
		})
		sc.blocks = pool
		for _, name := range files {
			br, closeIn, err := openInput(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			// small chunks: many blocks given back and used again
			streamRecords(name, br, "", 50, io.Discard, sc.blocks, func(format string, recs []event.Raw) {
				sc.process(name, format, recs, sc.blocks.take())
			})
			closeIn()
		}
		sc.close()
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	fresh := scan(nil, 1)
	if !strings.Contains(fresh, "rejected") || len(strings.Split(fresh, "\n")) < 50 {
		t.Fatalf("the samples give too little to compare:\n%.2000s", fresh)
	}
	for _, workers := range []int{1, 2} {
		pool := &blockPool{poison: true}
		if got := scan(pool, workers); got != fresh {
			a, b := strings.Split(fresh, "\n"), strings.Split(got, "\n")
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					t.Fatalf("%d workers: reused blocks change the result (of %d lines), first at %d:\nfresh:  %s\nreused: %s", workers, len(a), i, a[i], b[i])
				}
			}
			t.Fatalf("%d workers: reused blocks give %d lines, fresh %d", workers, len(b), len(a))
		}
		if len(pool.free) == 0 {
			t.Errorf("%d workers: no block was given back", workers)
		}
	}
}
