package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/decode"
)

func newSendCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "send FILE...",
		Short: "Send log files to a vigil server's ingest API",
		Long: `Send files (plain or gzip; - reads stdin) to POST /api/v1/ingest of a vigil
server, as records of one source: NDJSON and text files a line a record (or,
for multi-line formats, a record and the lines that continue it), JSON arrays
and {"records"|"Records": [...]} files an element a record. Records go in
gzip-compressed requests of at most --batch-records records and
--batch-bytes bytes, each with an Idempotency-Key made from the file, the
batch's place and its content: a retried request is not stored twice, and
sending the same file again to the same source stores nothing twice
(with the same batch settings, while the server keeps the first copy).

429 and 503 answers are retried after their Retry-After, network errors and
408 (a body that came too slowly) with backoff (1s, 2s, 4s… up to a
minute), at most --retries times. Each record
the server refuses is printed on stderr as FILE:LINE: reason, and a summary
at the end.

The key comes from --key, else --key-file, else VIGIL_KEY; it needs the
ingest (or admin) scope. Prefer VIGIL_KEY or --key-file: other users of
the machine can see --key in the process list.

Exit status: 0 when every record was accepted, 2 when some records were
refused (by the server, or as too large to send), 1 on an error (not every
record could be sent: see the message).`,
		Example: `  export VIGIL_KEY=vgl_…
  vigil send --server https://vigil.example:8443 --ca ca.pem --source bastion --format sshd /var/log/auth.log
  zcat events.jsonl.gz | vigil send --source dc01 --format windows -`,
		Args: cobra.MinimumNArgs(1),
		RunE: runSend,
	}
	f := cmd.Flags()
	server := os.Getenv("VIGIL_SERVER")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	f.String("server", server, "URL of the vigil server (env VIGIL_SERVER)")
	f.String("key", "", "API key with the ingest scope (default: --key-file, else env VIGIL_KEY)")
	f.String("key-file", "", "file holding the API key")
	f.String("source", "", "source to send to (required)")
	f.String("format", "", "format of the records: creates the source with it, or overrides the source's format for these requests (default: the source's)")
	f.String("ca", "", "PEM file of the CA certificate(s) that signed the server's certificate, besides the system's")
	f.Int("batch-records", 5000, "records (lines, or elements of a JSON array) per request at most")
	f.String("batch-bytes", "4MiB", "bytes of records per request at most, before compression (below the server's ingest-max-body)")
	f.Int("retries", 8, "retries of a request after 429, 503 or a network error")
	f.Duration("timeout", 2*time.Minute, "time limit of one request")
	f.Bool("progress", true, "show progress on stderr when it is a terminal")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

// sendStats counts what `vigil send` did.
type sendStats struct {
	records, requests  int // records sent (in requests the server answered)
	accepted, rejected int
	notSent            int // records refused before sending
	files, filesFailed int
	unlisted           int // rejections the server counted but did not list
}

func runSend(cmd *cobra.Command, files []string) error {
	f := cmd.Flags()
	str := func(n string) string { v, _ := f.GetString(n); return v }
	key, err := sendKey(str("key"), str("key-file"))
	if err != nil {
		return err
	}
	base, err := url.Parse(str("server"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("--server %q: want http://HOST:PORT or https://HOST:PORT", str("server"))
	}
	maxBytes, err := parseSize(str("batch-bytes"))
	if err != nil {
		return fmt.Errorf("--batch-bytes: %w", err)
	}
	maxRecords, _ := f.GetInt("batch-records")
	if maxRecords < 1 || maxBytes < 1024 || maxBytes > 1<<30 {
		return fmt.Errorf("--batch-records must be at least 1 and --batch-bytes between 1KiB and 1GiB")
	}
	retries, _ := f.GetInt("retries")
	timeout, _ := f.GetDuration("timeout")
	hc, err := newHTTPClient(str("ca"), timeout)
	if err != nil {
		return err
	}
	out := &sendOutput{w: cmd.ErrOrStderr()}
	if p, _ := f.GetBool("progress"); p && out.w == os.Stderr && isTerminal(os.Stderr) {
		out.tty = true
	}
	c := &ingestClient{
		http: hc, base: base, key: key, source: str("source"), format: str("format"),
		retries: max(retries, 0), minWait: time.Second, maxWait: time.Minute,
	}
	ctx := cmd.Context()
	format := c.format
	if format == "" {
		format = c.sourceFormat(ctx) // for where multi-line records may be cut
	}
	st := &sendStats{}
	var failed error
	for _, name := range files {
		c.notify = func(msg string) { out.printf("vigil send: %s: %s\n", name, msg) }
		err := sendFile(ctx, c, name, format, int(maxBytes), maxRecords, out, st)
		if err == nil {
			continue
		}
		var stop *sendStop
		if errors.As(err, &stop) || ctx.Err() != nil {
			// The server refused a request or could not be reached: the
			// next file would fare no better.
			failed = err
			break
		}
		st.filesFailed++
		out.printf("vigil send: %v\n", err)
	}
	out.clear()
	fmt.Fprintf(cmd.OutOrStdout(), "sent %d records from %s in %s: %d accepted, %d rejected\n",
		st.records, plural(st.files, "file"), plural(st.requests, "request"), st.accepted, st.rejected+st.notSent)
	if st.unlisted > 0 {
		out.printf("vigil send: the server counted %d rejected records that its replies do not list\n", st.unlisted)
	}
	switch {
	case failed != nil:
		return failed
	case st.filesFailed > 0:
		return fmt.Errorf("%d of %d files were not sent whole (see above)", st.filesFailed, len(files))
	case st.rejected+st.notSent > 0:
		return exitError{code: 2}
	}
	return nil
}

// sendKey finds the API key: --key, else --key-file, else VIGIL_KEY.
func sendKey(key, file string) (string, error) {
	switch {
	case key != "" && file != "":
		return "", errors.New("give --key or --key-file, not both")
	case key != "":
		return key, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--key-file: %w", err)
		}
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
		return "", fmt.Errorf("--key-file %s is empty", file)
	case os.Getenv("VIGIL_KEY") != "":
		return strings.TrimSpace(os.Getenv("VIGIL_KEY")), nil
	}
	return "", errors.New("no API key: set VIGIL_KEY or give --key-file FILE (or --key KEY, which other users can see in the process list)")
}

// sendStop is an error of the server or the network: sending stops.
type sendStop struct{ err error }

func (e *sendStop) Error() string { return e.err.Error() }
func (e *sendStop) Unwrap() error { return e.err }

// sendFile sends one file in batches. Its errors name the file; a
// *sendStop in one means a request failed for good (which stops sending),
// any other error stops this file only.
func sendFile(ctx context.Context, c *ingestClient, name, format string, maxBytes, maxRecords int, out *sendOutput, st *sendStats) error {
	read := &countingReader{}
	var size int64
	br, closeIn, err := openInput(name, func(in io.Reader, n int64) io.Reader {
		read.r, size = in, n
		return read
	})
	if err != nil {
		return err
	}
	defer closeIn()
	st.files++
	id := name
	if name != "-" {
		if abs, err := filepath.Abs(name); err == nil {
			id = abs
		}
	}
	b := &batcher{
		maxRecords: maxRecords, maxBytes: maxBytes, join: decode.JoinerFor(format),
		reject: func(line int, reason string) {
			st.notSent++
			out.printf("%s:%d: %s\n", name, line, reason)
		},
		emit: func(sb *sendBatch) error {
			reply, err := c.post(ctx, sb, idempotencyKey(id, c.source, c.format, sb))
			if err != nil {
				return &sendStop{err}
			}
			st.requests++
			st.records += sb.records
			st.accepted += reply.Accepted
			st.rejected += reply.RejectedCount
			for _, r := range reply.Rejected {
				if l := sb.fileLine(r.Line); l > 0 {
					out.printf("%s:%d: %s\n", name, l, r.Reason)
				} else {
					out.printf("%s: record %d of a request: %s\n", name, r.Line, r.Reason)
				}
			}
			st.unlisted += reply.RejectedCount - len(reply.Rejected)
			if size > 0 {
				out.progress("%s: %d%%, %d records sent", name, read.n*100/size, st.records)
			} else {
				out.progress("%s: %d records sent", name, st.records)
			}
			return nil
		},
	}
	if err := b.run(br); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// idempotencyKey names a batch by the file it comes from, the source and
// format it goes to and its content (which holds its place: the file lines
// it maps to), so that a retry, or sending the file again, gives the same
// key and the server stores the batch once.
func idempotencyKey(file, source, format string, b *sendBatch) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{file, source, format, b.ctype} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, l := range b.lines {
		binary.BigEndian.PutUint64(n[:], uint64(l))
		h.Write(n[:])
	}
	h.Write(b.body)
	return "vigil-send:" + hex.EncodeToString(h.Sum(nil)[:20])
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sendOutput writes send's messages to stderr and, on a terminal, a
// status line below them that each message moves down.
type sendOutput struct {
	w      io.Writer
	tty    bool
	status string
	shown  time.Time
}

func (o *sendOutput) printf(format string, args ...any) {
	if o.status != "" {
		io.WriteString(o.w, "\r\033[K")
	}
	fmt.Fprintf(o.w, format, args...)
	if o.status != "" {
		io.WriteString(o.w, o.status)
	}
}

// progress shows a status line, at most a few times a second.
func (o *sendOutput) progress(format string, args ...any) {
	if !o.tty || time.Since(o.shown) < 200*time.Millisecond {
		return
	}
	o.shown = time.Now()
	o.status = fmt.Sprintf(format, args...)
	io.WriteString(o.w, "\r\033[K"+o.status)
}

func (o *sendOutput) clear() {
	if o.status != "" {
		io.WriteString(o.w, "\r\033[K")
		o.status = ""
	}
}

// countingReader counts the bytes of a file read so far (for progress).
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
