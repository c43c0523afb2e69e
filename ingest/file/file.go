// Package file tails a log file into a source: each line a record (or
// several, for a format whose records span lines: decode.Joiner), from
// where it stopped last time (a checkpoint in the data directory), across
// rotation by rename and truncation in place (copytruncate). A source of
// format evtx reads a Windows .evtx file by its records instead (evtx.go).
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/evtx"
	"github.com/vigil-sec/vigil/ingest"
	"github.com/vigil-sec/vigil/ingest/jsonstream"
)

// Where a file without a checkpoint starts.
const (
	StartEnd       = "end"       // only lines written from now on (the default: no flood of history)
	StartBeginning = "beginning" // the whole file
)

// Config configures one tailed file.
type Config struct {
	Name string // labels metrics and logs; the source name when empty
	Path string
	// StartAt is where a file seen for the first time starts: end (the
	// default) or beginning. With a checkpoint the tail resumes there.
	StartAt string
	// CheckpointDir holds the checkpoint (required; the server uses
	// <data-dir>/checkpoints).
	CheckpointDir string
	// PollInterval is how often the file is checked for new lines,
	// rotation and truncation. Default 1 s.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Receiver tails one file.
type Receiver struct {
	cfg    Config
	b      *ingest.Batcher
	m      *ingest.Counters
	log    *slog.Logger
	cpPath string
	max    int // longest line

	f       *os.File
	cp      checkpoint // the position of f: offset after the last line handed to the batcher
	saved   checkpoint // what the checkpoint file holds
	pending []byte     // read past cp.Offset, no newline yet
	skip    bool       // inside a line too long, dropping to its newline
	lost    bool       // a batch failed to publish: the checkpoint must not pass it

	// Multi-line records (the format's decode.Joiner): the record being
	// gathered is held until a line does not continue it, or a poll brings
	// nothing more; the checkpoint stays at its start meanwhile.
	joiner    decode.Joiner
	held      []byte
	heldAt    checkpoint // position before the held record's first line
	heldLine  int
	heldGrown bool // the held record grew during this poll
	buf       []byte

	evtx     bool                  // an .evtx file, read by its records (evtx.go)
	evtxSeen evtxState             // the file as last read
	evtxBad  map[evtx.Problem]bool // the damage rejected already
	// jsonLines: the format's records are JSON, maybe pretty-printed over
	// several lines (joined by jsonstream.Joiner), maybe after evtx_dump's
	// "Record N" lines (passed over).
	jsonLines bool
}

// jsonRecords are the formats whose files tools also write pretty-printed:
// evtx_dump's default output, jq without -c.
var jsonRecords = map[string]bool{"windows": true, "json": true}

// New checks cfg. batch carries the publisher and batch limits (its Target
// names the source); metrics may be nil.
func New(cfg Config, batch ingest.BatcherConfig, metrics *ingest.ReceiverMetrics) (*Receiver, error) {
	if cfg.Name == "" {
		cfg.Name = batch.Target.Source
	}
	var errs []error
	if cfg.Path == "" {
		errs = append(errs, fmt.Errorf("file receiver %s: path is required", cfg.Name))
	}
	if cfg.CheckpointDir == "" {
		errs = append(errs, fmt.Errorf("file receiver %s: checkpoint directory is required", cfg.Name))
	}
	switch cfg.StartAt {
	case "":
		cfg.StartAt = StartEnd
	case StartEnd, StartBeginning:
	default:
		errs = append(errs, fmt.Errorf("file receiver %s: start %q is neither beginning nor end", cfg.Name, cfg.StartAt))
	}
	if cfg.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("file receiver %s: poll interval must not be negative", cfg.Name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("file receiver %s: path %s: %w", cfg.Name, cfg.Path, err)
	}
	cfg.Path = abs
	if metrics == nil {
		metrics = ingest.NewReceiverMetrics(nil)
	}
	r := &Receiver{cfg: cfg, log: cfg.Logger.With("receiver", cfg.Name, "path", cfg.Path), m: metrics.For(cfg.Name, "file")}
	batch.Metrics, batch.Logger = r.m, r.log
	if batch.MaxRecordBytes == 0 {
		batch.MaxRecordBytes = ingest.DefaultMaxRecordBytes
	}
	if r.b, err = ingest.NewBatcher(batch); err != nil {
		return nil, fmt.Errorf("file receiver %s: %w", cfg.Name, err)
	}
	r.max = batch.MaxRecordBytes
	r.joiner = decode.JoinerFor(batch.Target.Format)
	r.evtx = batch.Target.Format == evtx.Format
	if r.joiner == nil && jsonRecords[batch.Target.Format] {
		r.joiner, r.jsonLines = jsonstream.Joiner{}, true
	}
	if err := os.MkdirAll(cfg.CheckpointDir, 0o700); err != nil {
		return nil, fmt.Errorf("file receiver %s: checkpoint dir: %w", cfg.Name, err)
	}
	r.cpPath = checkpointPath(cfg.CheckpointDir, batch.Target.Workspace, batch.Target.Source, cfg.Path)
	return r, nil
}

// Counters are the receiver's metrics.
func (r *Receiver) Counters() *ingest.Counters { return r.m }

// Run tails the file until ctx ends. Lines are stored on the bus before the
// checkpoint moves past them, so a restart neither loses nor repeats a
// line (a crash between the two repeats the last batch).
func (r *Receiver) Run(ctx context.Context) error {
	if r.evtx {
		return r.runEVTX(ctx)
	}
	pubCtx, cancel := ingest.Draining(ctx)
	defer cancel()
	defer func() {
		if r.f != nil {
			r.f.Close()
		}
	}()
	if err := r.open(pubCtx); err != nil {
		return err
	}
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := r.poll(pubCtx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("file tail", "err", err)
		}
		select {
		case <-ctx.Done():
			// The last poll stored and checkpointed all it read.
			return nil
		case <-t.C:
		}
	}
}

// open finds where to start: the checkpoint's file and offset when they
// still hold, the rest of a file rotated while we were down, or the start
// position of a file never seen.
func (r *Receiver) open(ctx context.Context) error {
	cp, ok, err := loadCheckpoint(r.cpPath)
	if err != nil {
		return fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
	}
	r.saved = cp
	fi, statErr := os.Stat(r.cfg.Path)
	if ok {
		if statErr == nil {
			dev, ino := fileID(fi)
			if dev == cp.Dev && ino == cp.Ino && r.stillThere(cp, fi) {
				return r.openAt(cp)
			}
		}
		// Rotated while we were down: finish the old file first.
		if old := r.findRotated(cp); old != "" {
			r.log.Info("finishing the file rotated while stopped", "rotated", old, "offset", cp.Offset)
			if err := r.openPath(old, cp); err == nil {
				if err := r.drain(ctx); err != nil {
					return err
				}
			}
		} else if statErr == nil {
			r.log.Warn("file was truncated or replaced while stopped; reading it from the start", "offset", cp.Offset)
		}
		return r.openPath(r.cfg.Path, checkpoint{})
	}
	if statErr != nil {
		r.log.Info("file does not exist yet; waiting for it")
		return nil
	}
	start := checkpoint{}
	if r.cfg.StartAt == StartEnd {
		start.Offset = fi.Size()
	}
	return r.openPath(r.cfg.Path, start)
}

// stillThere reports whether the checkpoint's offset still ends a line of
// fi's file: a file truncated and written past the offset again fails it.
func (r *Receiver) stillThere(cp checkpoint, fi fs.FileInfo) bool {
	if fi.Size() < cp.Offset {
		return false
	}
	if cp.Offset == 0 {
		return true
	}
	f, err := os.Open(r.cfg.Path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [1]byte
	_, err = f.ReadAt(b[:], cp.Offset-1)
	return err == nil && b[0] == '\n'
}

// findRotated looks beside the path for the file with the checkpoint's
// inode (auth.log.1, auth.log-20261127…).
func (r *Receiver) findRotated(cp checkpoint) string {
	if cp.Ino == 0 {
		return ""
	}
	dir, base := filepath.Split(r.cfg.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), base) || e.Name() == base {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if dev, ino := fileID(fi); dev == cp.Dev && ino == cp.Ino && fi.Size() >= cp.Offset {
			return p
		}
	}
	return ""
}

func (r *Receiver) openAt(cp checkpoint) error { return r.openPath(r.cfg.Path, cp) }

// openPath opens p at cp's offset and line.
func (r *Receiver) openPath(p string, cp checkpoint) error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file receiver %s: %w", r.cfg.Name, err)
	}
	if _, err := f.Seek(cp.Offset, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("file receiver %s: seek to %d: %w", r.cfg.Name, cp.Offset, err)
	}
	cp.Path = r.cfg.Path
	cp.Dev, cp.Ino = fileID(fi)
	r.f, r.cp, r.pending, r.skip = f, cp, r.pending[:0], false
	r.log.Debug("tailing", "file", p, "offset", cp.Offset)
	return nil
}

// poll reads what is new, stores it and moves the checkpoint; then it
// checks the path for rotation and truncation.
func (r *Receiver) poll(ctx context.Context) error {
	if r.f == nil {
		if _, err := os.Stat(r.cfg.Path); err != nil {
			return nil // still waiting for the file
		}
		if err := r.openPath(r.cfg.Path, checkpoint{}); err != nil {
			return err
		}
	}
	if err := r.read(ctx); err != nil {
		return err
	}
	if err := r.commit(ctx); err != nil {
		return err
	}
	fi, err := os.Stat(r.cfg.Path)
	if err != nil {
		return nil // renamed away, the new file not there yet: keep the old one
	}
	dev, ino := fileID(fi)
	switch {
	case dev != r.cp.Dev || ino != r.cp.Ino:
		// Rotated by rename: what the writer added to the old file before
		// it moved on is read first.
		r.log.Info("file rotated; finishing the old one and following the new", "offset", r.cp.Offset)
		if err := r.drain(ctx); err != nil {
			return err
		}
		if err := r.openPath(r.cfg.Path, checkpoint{}); err != nil {
			return err
		}
		if err := r.read(ctx); err != nil {
			return err
		}
		return r.commit(ctx)
	case fi.Size() < r.cp.Offset+int64(len(r.pending)):
		r.log.Info("file truncated; reading it from the start", "size", fi.Size(), "offset", r.cp.Offset)
		r.emitPending(ctx)
		if _, err := r.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r.cp.Offset, r.cp.Line, r.pending, r.skip = 0, 0, r.pending[:0], false
		if err := r.read(ctx); err != nil {
			return err
		}
		return r.commit(ctx)
	}
	return nil
}

// drain reads the current file to its end, including a last line without
// a newline (its writer has moved on), and stores it.
func (r *Receiver) drain(ctx context.Context) error {
	if err := r.read(ctx); err != nil {
		return err
	}
	r.emitPending(ctx)
	return r.commit(ctx)
}

// read hands every complete line from the read position to the end of the
// file to the batcher.
func (r *Receiver) read(ctx context.Context) error {
	if cap(r.buf) == 0 {
		r.buf = make([]byte, 64<<10)
	}
	for {
		n, err := r.f.Read(r.buf[:cap(r.buf)])
		if n > 0 {
			r.lines(ctx, r.buf[:n])
		}
		if errors.Is(err, io.EOF) || n == 0 && err == nil {
			return nil
		}
		if err != nil {
			return err // "read PATH: …" already
		}
	}
}

func (r *Receiver) lines(ctx context.Context, data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if r.skip {
				r.cp.Offset += int64(len(data))
				return
			}
			r.pending = append(r.pending, data...)
			if len(r.pending) > r.max {
				r.cp.Line++
				_ = r.b.Reject(ingest.ReasonTooLong, fmt.Sprintf("line %d longer than %d bytes; skipped", r.cp.Line, r.max))
				r.cp.Offset += int64(len(r.pending))
				r.pending, r.skip = r.pending[:0], true
			}
			return
		}
		line := data[:i]
		data = data[i+1:]
		if r.skip {
			r.cp.Offset += int64(i + 1)
			r.skip = false
			continue
		}
		if len(r.pending) > 0 {
			r.pending = append(r.pending, line...)
			line = r.pending
		}
		before := r.cp
		r.cp.Offset += int64(len(line) + 1)
		r.cp.Line++
		r.take(ctx, line, before)
		r.pending = r.pending[:0]
	}
}

// take passes a line on: alone, or joined to the record held before it
// when the format's Joiner says it continues it. before is the position
// just before the line.
func (r *Receiver) take(ctx context.Context, line []byte, before checkpoint) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if r.joiner == nil {
		r.emit(ctx, line, before.Line+1)
		return
	}
	if r.jsonLines && jsonstream.IsRecordLine(line) && (len(r.held) == 0 || !r.joiner.Continues(r.held, line)) {
		r.release(ctx)
		return
	}
	if len(r.held) > 0 && r.joiner.Continues(r.held, line) {
		r.held = append(append(r.held, '\n'), line...)
		r.heldGrown = true
		return
	}
	r.release(ctx)
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	r.held = append(r.held[:0], line...)
	r.heldAt, r.heldLine, r.heldGrown = before, before.Line+1, true
}

// release emits the held record, if any.
func (r *Receiver) release(ctx context.Context) {
	if len(r.held) > 0 {
		r.emit(ctx, r.held, r.heldLine)
		r.held = r.held[:0]
	}
}

// emit hands one record to the batcher.
func (r *Receiver) emit(ctx context.Context, rec []byte, line int) {
	if len(bytes.TrimSpace(rec)) == 0 {
		return
	}
	err := r.b.Add(ctx, rec, line)
	var re *ingest.RecordError
	if err != nil && !errors.As(err, &re) {
		r.lost = true // rejects are counted and passed; a failed publish is read again next start
	}
}

// emitPending hands over a last line that has no newline.
func (r *Receiver) emitPending(ctx context.Context) {
	if len(r.pending) > 0 && !r.skip {
		before := r.cp
		r.cp.Offset += int64(len(r.pending))
		r.cp.Line++
		r.take(ctx, r.pending, before)
	}
	r.pending, r.skip = r.pending[:0], false
	r.release(ctx)
}

// commit stores what the batcher holds and then moves the checkpoint (to
// the start of a held record, which is read again after a restart). A
// record held through a whole poll without growing is complete.
func (r *Receiver) commit(ctx context.Context) error {
	if len(r.held) > 0 && !r.heldGrown {
		r.release(ctx)
	}
	r.heldGrown = false
	if err := r.b.Flush(ctx); err != nil {
		r.lost = true
	}
	if r.lost {
		return errors.New("a batch was not stored: the checkpoint stays where it was, and the lines after it are read again at the next start")
	}
	cp := r.cp
	if len(r.held) > 0 {
		cp = r.heldAt
	}
	if cp == r.saved {
		return nil
	}
	if err := cp.save(r.cpPath); err != nil {
		return err
	}
	r.saved = cp
	return nil
}
