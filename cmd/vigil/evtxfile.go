package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-sec/vigil/decode/evtx"
	"github.com/vigil-sec/vigil/event"
)

// streamEVTX is streamRecords for an .evtx file (told by its ElfFile
// signature): its records are read by the evtx reader, each rendered as
// evtx_dump's JSON and decoded as format evtx unless another is given. A
// record's Line is its EventRecordID. Each damaged chunk or record is said
// on warn with its byte offset, and reading goes on.
func streamEVTX(name string, br *bufio.Reader, format string, n int, warn io.Writer, fn func(format string, recs []event.Raw)) (string, error) {
	if format == "" {
		format = evtx.Format
	}
	rd, err := evtx.NewReader(br)
	if err != nil {
		return format, fmt.Errorf("%s: %w", name, err)
	}
	recs := make([]event.Raw, 0, n)
	damaged := 0
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var p *evtx.Problem
		if errors.As(err, &p) {
			if !p.Warning {
				damaged++
			}
			fmt.Fprintf(warn, "%s: %v\n", name, p)
			continue
		}
		if err != nil {
			return format, fmt.Errorf("%s: %w", name, err)
		}
		recs = append(recs, event.Raw{Data: bytes.Clone(r.JSON), Line: int(r.ID)})
		if len(recs) == n {
			fn(format, recs)
			recs = make([]event.Raw, 0, n) // the processed chunk's events keep their records
		}
	}
	if len(recs) > 0 {
		fn(format, recs)
	}
	if damaged > 0 {
		fmt.Fprintf(warn, "%s: %d damaged chunks or records skipped\n", name, damaged)
	}
	return format, nil
}
