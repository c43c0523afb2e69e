package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-sec/vigil/intel"
)

// LoadFiles reads intelligence files for an offline scan (vigil scan
// --intel FILE…): each arg is FILE, or FORMAT:FILE to name its format;
// without one the format is guessed (Guess). Each file is a feed named for
// its base name, published to set. Problems are reported with their file;
// a file that cannot be read at all is an error naming it. It returns how
// many indicators were loaded.
func LoadFiles(formats *Formats, set Index, args []string, maxSize int64, problem func(file string, p intel.Problem)) (int, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	total := 0
	for _, arg := range args {
		format, path := "", arg
		if f, p, ok := strings.Cut(arg, ":"); ok && formats.Known(f) {
			format, path = f, p
		}
		n, err := loadFile(formats, set, format, path, maxSize, func(p intel.Problem) { problem(path, p) })
		if err != nil {
			return total, fmt.Errorf("--intel %s: %w", arg, err)
		}
		total += n
	}
	return total, nil
}

func loadFile(formats *Formats, set Index, format, path string, maxSize int64, problem func(intel.Problem)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := (&Manager{o: Options{MaxSize: maxSize}}).document(f)
	if err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if format == "" {
		head, _ := br.Peek(4096)
		format = Guess(path, head)
		if !formats.Known(format) {
			return 0, fmt.Errorf("format %q (guessed) is not one this vigil reads; name it as FORMAT:FILE (known: %s)", format, strings.Join(formats.Names(), ", "))
		}
	}
	p, ok := formats.parser(format)
	if !ok {
		return 0, fmt.Errorf("format %s is read from a server, not a file", format)
	}
	name := filepath.Base(path)
	inds, err := p.Parse(br, name, problem)
	if r.err != nil {
		err = r.err
	}
	if err != nil {
		return 0, err
	}
	for i := range inds {
		inds[i].Feed = name
	}
	if err := set.Replace(name, inds); err != nil {
		var re *intel.ReplaceError
		if !errors.As(err, &re) {
			return 0, err
		}
		for _, e := range re.First {
			problem(intel.Problem{Where: "value", Reason: e.Error()})
		}
		return len(inds) - re.Rejected, nil
	}
	return len(inds), nil
}

// Guess names the format of an intelligence file from its name and first
// bytes: a STIX bundle (a JSON object of "type": "bundle"), a MISP event
// (a JSON object with "Event": format misp-event), JSON lines,
// CSV (a .csv name, or Feodo's header), else a plain list.
func Guess(path string, head []byte) string {
	name := strings.ToLower(strings.TrimSuffix(path, ".gz"))
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(head, []byte(`"bundle"`)):
		return "stix"
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(head, []byte(`"Event"`)):
		return "misp-event"
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson") || bytes.HasPrefix(trimmed, []byte(`{"kind"`)):
		return "jsonl"
	case bytes.Contains(head, []byte("first_seen_utc")) || bytes.Contains(head, []byte("dst_ip,dst_port")):
		return "feodo"
	case strings.HasSuffix(name, ".csv"):
		return "csv"
	}
	return "plain"
}
