package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// source is one kind of log in the mix: its records, read from the shared
// data at run time, sent as one vigil source of one format.
type source struct {
	name        string  // vigil source name
	format      string  // ?format=
	contentType string  // NDJSON or text lines
	weight      float64 // share of the events
	lines       [][]byte
	next        atomic.Int64 // cycles through lines
}

// batch returns the next n records of the source, one a line.
func (s *source) batch(n int) []byte {
	var b bytes.Buffer
	for range n {
		i := int(s.next.Add(1)-1) % len(s.lines)
		b.Write(s.lines[i])
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// mixSpec names a source kind in -mix: windows=70,sshd=15,...
type mixSpec struct {
	format, contentType string
	load                func(data string) ([][]byte, error)
}

var mixKinds = map[string]mixSpec{
	"windows": {"windows", "application/x-ndjson", func(d string) ([][]byte, error) {
		return readLines(filepath.Join(d, "events", "windows-mordor.jsonl.gz"))
	}},
	"sshd": {"sshd", "text/plain", func(d string) ([][]byte, error) {
		return readLines(filepath.Join(d, "ssh_auth", "loghub_openssh", "OpenSSH_2k.log"))
	}},
	"cloudtrail": {"cloudtrail", "application/x-ndjson", func(d string) ([][]byte, error) {
		return readPantherEvents(filepath.Join(d, "cloud", "aws_cloudtrail", "panther_rule_tests.jsonl"), "AWS.CloudTrail")
	}},
	"vpcflow": {"vpcflow", "application/x-ndjson", func(d string) ([][]byte, error) {
		return readPantherEvents(filepath.Join(d, "network_flow", "aws_vpc", "panther_rule_tests.jsonl"), "AWS.VPCFlow")
	}},
}

// parseMix reads "windows=70,sshd=15" into sources with their records
// loaded from the data directory.
func parseMix(spec, data, tag string) ([]*source, error) {
	var out []*source
	total := 0.0
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		weight, err := strconv.ParseFloat(w, 64)
		if !ok || err != nil || weight <= 0 {
			return nil, fmt.Errorf("-mix %q: want kind=weight with a positive weight, e.g. windows=70", part)
		}
		k, ok := mixKinds[name]
		if !ok {
			return nil, fmt.Errorf("-mix %q: unknown kind %q (windows, sshd, cloudtrail, vpcflow)", part, name)
		}
		lines, err := k.load(data)
		if err != nil {
			return nil, fmt.Errorf("-mix %s: %w (pass -data)", name, err)
		}
		if len(lines) == 0 {
			return nil, fmt.Errorf("-mix %s: no records in the data", name)
		}
		out = append(out, &source{name: "load-" + tag + "-" + name, format: k.format, contentType: k.contentType, weight: weight, lines: lines})
		total += weight
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-mix %q: no source", spec)
	}
	for _, s := range out {
		s.weight /= total
	}
	return out, nil
}

// picker spreads requests over the sources by weight, deterministically:
// request k goes to the source furthest behind its share (smooth weighted
// round robin), so short runs hold the mix too.
type picker struct {
	sources []*source
	credit  []float64
}

func (p *picker) pick() *source {
	if p.credit == nil {
		p.credit = make([]float64, len(p.sources))
	}
	best := 0
	for i, s := range p.sources {
		p.credit[i] += s.weight
		if p.credit[i] > p.credit[best] {
			best = i
		}
	}
	p.credit[best]--
	return p.sources[best]
}

// readLines reads the non-empty lines of a plain or gzip file.
func readLines(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	var lines [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lines, nil
}

// readPantherEvents keeps the raw records ("event") of one log type from a
// file of labelled rule tests.
func readPantherEvents(path, logType string) ([][]byte, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i, l := range lines {
		var t struct {
			LogType string          `json:"log_type"`
			Event   json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(l, &t); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		if t.LogType != logType || len(t.Event) == 0 || t.Event[0] != '{' {
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, t.Event); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, c.Bytes())
	}
	return out, nil
}
