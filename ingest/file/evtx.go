package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vigil-sec/vigil/decode/evtx"
	"github.com/vigil-sec/vigil/ingest"
)

// An .evtx file (a source of format evtx) is not a stream of lines: its
// writer fills 64 KiB chunks in place, rewrites the file header, and, when
// the log is full, overwrites its oldest chunk. So the file is read whole,
// by its records, whenever its size or modification time changes, and the
// records passed on are those whose EventRecordID is above the last one
// stored (the checkpoint's line). A log cleared or replaced (its highest
// record identifier below the checkpoint's) is read from its first record.
// A finished file is thus imported once; a live one as it grows.

// evtxState is what the last read of the file saw.
type evtxState struct {
	size int64
	mod  time.Time
	dev  uint64
	ino  uint64
}

// runEVTX is Run for an .evtx file.
func (r *Receiver) runEVTX(ctx context.Context) error {
	pubCtx, cancel := ingest.Draining(ctx)
	defer cancel()
	cp, ok, err := loadCheckpoint(r.cpPath)
	if err != nil {
		return fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
	}
	r.saved = cp
	first := !ok
	if ok {
		r.cp = cp
	}
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := r.pollEVTX(pubCtx, &first); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("evtx file", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// pollEVTX reads the file again if it changed. first is true until the
// file has been seen once without a checkpoint: with start: end its
// records up to then are passed over.
func (r *Receiver) pollEVTX(ctx context.Context, first *bool) error {
	fi, err := os.Stat(r.cfg.Path)
	if err != nil {
		return nil // not there (yet)
	}
	dev, ino := fileID(fi)
	now := evtxState{size: fi.Size(), mod: fi.ModTime(), dev: dev, ino: ino}
	if now == r.evtxSeen {
		return nil
	}
	skip := *first && r.cfg.StartAt == StartEnd
	last := uint64(r.cp.Line)
	if *first {
		last = 0
	}
	max, emitted, err := r.readEVTX(ctx, last, skip)
	if err != nil {
		return err
	}
	if !skip && max < last && max > 0 {
		r.log.Info("evtx log cleared or replaced; reading it from its first record", "last_record", last, "highest_now", max)
		if max, emitted, err = r.readEVTX(ctx, 0, false); err != nil {
			return err
		}
	}
	*first = false
	r.evtxSeen = now
	r.cp.Path, r.cp.Dev, r.cp.Ino, r.cp.Offset = r.cfg.Path, dev, ino, fi.Size()
	if skip || emitted > 0 || max < uint64(r.cp.Line) {
		r.cp.Line = int(max)
	}
	return r.commit(ctx)
}

// readEVTX reads the file's records and passes on those above last (none
// when skip). It returns the highest record identifier in the file and
// how many records it passed on. Damaged chunks and records are rejected
// (counted, logged with their offset) and reading goes on.
func (r *Receiver) readEVTX(ctx context.Context, last uint64, skip bool) (max uint64, emitted int, err error) {
	f, err := os.Open(r.cfg.Path)
	if err != nil {
		return 0, 0, fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
	}
	defer f.Close()
	if r.evtxBad == nil {
		r.evtxBad = map[evtx.Problem]bool{}
	}
	rd, err := evtx.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("file receiver %s: %s: %w", r.cfg.Name, r.cfg.Path, err)
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return max, emitted, nil
		}
		var p *evtx.Problem
		if errors.As(err, &p) {
			if p.Warning {
				r.log.Debug("evtx file", "warning", p.Error())
			} else if !skip && !r.evtxBad[*p] {
				// Each damage is counted once, not at every read of the file.
				r.evtxBad[*p] = true
				_ = r.b.Reject(ingest.ReasonDamaged, p.Error())
			}
			continue
		}
		if err != nil {
			return max, emitted, fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
		}
		max = maxU64(max, rec.ID)
		if skip || rec.ID <= last {
			continue
		}
		r.emit(ctx, rec.JSON, int(rec.ID))
		emitted++
	}
}

func maxU64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
