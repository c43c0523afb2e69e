// Package list reads plain-text and CSV threat lists into indicators: one
// IP address, CIDR prefix or range a line (Spamhaus DROP, FireHOL ipsets
// and netsets, DShield's block list), abuse.ch Feodo Tracker's CSV, Tor
// exit lists, and lists of domains, URLs or hashes with the kind inferred
// a line. Each Format is read by a Parser, which implements intel.Parser.
package list

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// Format is the layout of a list.
type Format string

const (
	// FormatIP: one address, prefix or range a line ("a-b", or DShield's
	// "start end …" columns); "#" and ";" start comments, and the text
	// after ";" on a Spamhaus DROP line (its SBL id) becomes Ref. A FireHOL
	// header's "This File Date" becomes LastSeen and its "Category" the
	// threat type when Options gives none. Spamhaus DROP's JSON lines
	// ({"cidr": …, "sblid": …}) are read too.
	FormatIP Format = "ip"
	// FormatFeodo: abuse.ch Feodo Tracker's botnet C2 CSV (first_seen_utc,
	// dst_ip, dst_port, c2_status, last_online, malware), columns found by
	// its header line; one IP indicator a row, threat type c2.
	FormatFeodo Format = "feodo_csv"
	// FormatTor: the Tor Project's exit lists, either the bulk list (one
	// address a line) or the exit-addresses file ("ExitAddress IP date");
	// threat type tor_exit.
	FormatTor Format = "tor"
	// FormatMixed: one domain, URL, hash, e-mail address, IP or CIDR a
	// line, the kind inferred from the value (intel.Infer); hosts-file
	// lines ("0.0.0.0 evil.example") give their name.
	FormatMixed Format = "mixed"
)

// Formats lists the formats New accepts.
var Formats = []Format{FormatIP, FormatFeodo, FormatTor, FormatMixed}

// Options are what a plain list does not say of its entries: the feed's
// defaults, applied to every indicator read.
type Options struct {
	ThreatType string    // default: the format's (tor_exit, c2) or the FireHOL category, else unknown
	Threat     string    // the malware, actor or campaign, when the whole list is about one
	Confidence int       // 1–100; 0: 50
	TLP        string    // clear, green, amber, amber+strict, red
	ValidUntil time.Time // when the list's entries stop matching; zero: never
	Tags       []string
}

// Parser reads one Format; its zero Options take the format's defaults.
type Parser struct {
	Format  Format
	Options Options
}

// New returns the parser of a format named as in Formats.
func New(format string, o Options) (Parser, error) {
	for _, f := range Formats {
		if string(f) == format {
			if o.Confidence < 0 || o.Confidence > 100 {
				return Parser{}, fmt.Errorf("list %s: confidence %d is not within 0–100", format, o.Confidence)
			}
			return Parser{Format: f, Options: o}, nil
		}
	}
	return Parser{}, fmt.Errorf("list format %q: unknown (known: ip, feodo_csv, tor, mixed)", format)
}

// MaxLine is the longest line read; a longer one is reported and skipped.
const MaxLine = 64 << 10

// Parse reads the list. A line that cannot be read is reported to problem
// as "line N" and the rest is read; the error is only the reader's.
func (p Parser) Parse(r io.Reader, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	if problem == nil {
		problem = func(intel.Problem) {}
	}
	var st state
	st.p, st.feed, st.problem = p, feed, problem
	switch p.Format {
	case FormatIP, FormatTor, FormatMixed, FormatFeodo:
	default:
		return nil, fmt.Errorf("list format %q: unknown", p.Format)
	}
	err := eachLine(r, func(n int, line string) {
		st.line = n
		switch p.Format {
		case FormatIP:
			st.ipLine(line)
		case FormatTor:
			st.torLine(line)
		case FormatMixed:
			st.mixedLine(line)
		case FormatFeodo:
			st.feodoLine(line)
		}
	}, func(n int) {
		problem(intel.Problem{Where: fmt.Sprintf("line %d", n), Reason: fmt.Sprintf("longer than %d bytes; skipped", MaxLine)})
	})
	if err != nil {
		return st.out, fmt.Errorf("list %s, after line %d: %w", feed, st.line, err)
	}
	return st.out, nil
}

// state is one Parse's progress.
type state struct {
	p       Parser
	feed    string
	problem func(intel.Problem)
	line    int
	out     []intel.Indicator

	category string    // FireHOL "Category"
	listDate time.Time // FireHOL "This File Date"
	sawData  bool      // a data line was read (headers come before)
	torNode  string    // exit-addresses: the current ExitNode fingerprint
	cols     *feodoCols
}

func (st *state) bad(format string, args ...any) {
	st.problem(intel.Problem{Where: fmt.Sprintf("line %d", st.line), Reason: fmt.Sprintf(format, args...)})
}

// add appends an indicator of an already normalized value with the
// list's defaults.
func (st *state) add(k intel.Kind, value string, defaultThreat string) *intel.Indicator {
	o := st.p.Options
	ind := intel.Indicator{
		Kind: k, Value: value, Feed: st.feed, ThreatType: o.ThreatType, Threat: o.Threat,
		Confidence: o.Confidence, TLP: o.TLP, ValidUntil: o.ValidUntil, Tags: o.Tags,
		LastSeen: st.listDate,
	}
	if ind.ThreatType == "" {
		ind.ThreatType = defaultThreat
	}
	if ind.ThreatType == "" {
		ind.ThreatType = intel.ThreatUnknown
	}
	if ind.Confidence == 0 {
		ind.Confidence = 50
	}
	st.out = append(st.out, ind)
	return &st.out[len(st.out)-1]
}

// eachLine calls fn with every line (without its end of line) and its
// number from 1; a line over MaxLine is passed to tooLong instead.
func eachLine(r io.Reader, fn func(n int, line string), tooLong func(n int)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	overflow := false
	for n := 1; ; {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !overflow && len(long)+len(chunk) <= MaxLine {
				long = append(long, chunk...)
			} else {
				overflow = true
			}
			continue
		}
		if len(chunk) > 0 || len(long) > 0 {
			line := chunk
			if long != nil {
				long = append(long, chunk...)
				line = long
			}
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
			}
			if overflow || len(line) > MaxLine {
				tooLong(n)
			} else {
				fn(n, string(line))
			}
			n++
			long, overflow = long[:0], false
			if len(long) == 0 {
				long = nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// cutComment drops what follows the first of the comment characters,
// and surrounding white space.
func cutComment(line, chars string) (data, comment string) {
	if i := strings.IndexAny(line, chars); i >= 0 {
		return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
	}
	return strings.TrimSpace(line), ""
}
