// Package jsonl is vigil's own indicator format: one indicator a line, as
// a JSON object of intel.Indicator's fields. `vigil intel export` writes
// it, and it reads back with `vigil intel import --format jsonl`.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/vigil-sec/vigil/intel"
)

// MaxLine bounds a line: an indicator is far smaller.
const MaxLine = 1 << 20

var kinds = map[intel.Kind]bool{
	intel.KindIP: true, intel.KindCIDR: true, intel.KindDomain: true, intel.KindURL: true, intel.KindMD5: true,
	intel.KindSHA1: true, intel.KindSHA256: true, intel.KindEmail: true, intel.KindUserAgent: true,
}

// Parser reads the format. A line that is not an indicator is a problem
// at its line; blank lines are skipped.
type Parser struct{}

// Parse implements intel.Parser.
func (Parser) Parse(r io.Reader, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []intel.Indicator
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > MaxLine {
			problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: fmt.Sprintf("line of %d bytes, more than %d", len(line), MaxLine)})
		} else if l := bytes.TrimSpace(line); len(l) > 0 {
			var in intel.Indicator
			if jerr := json.Unmarshal(l, &in); jerr != nil {
				problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: "not an indicator object: " + jerr.Error()})
			} else if !kinds[in.Kind] {
				problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: "kind " + strconv.Quote(string(in.Kind)) + " is not an indicator kind"})
			} else if in.Value == "" {
				problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: "no value"})
			} else if in.Confidence < 0 || in.Confidence > 100 {
				problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: "confidence " + strconv.Itoa(in.Confidence) + " not within 0 to 100"})
			} else {
				in.Feed = feed
				out = append(out, in)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// readLine reads a line without its end, keeping no more than MaxLine+1
// bytes of a longer one.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line) <= MaxLine {
			line = append(line, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		if err == io.EOF {
			return line, nil // the last line, without its end: read it, then EOF next
		}
		return line, err
	}
}

// Write writes indicators in the format.
func Write(w io.Writer, inds []intel.Indicator) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range inds {
		if err := enc.Encode(&inds[i]); err != nil {
			return fmt.Errorf("indicator %s %q: %w", inds[i].Kind, inds[i].Value, err)
		}
	}
	return bw.Flush()
}
