package postgres

import (
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// CSVDecoder decodes csvlog records: one CSV record a message, whose quoted
// columns may hold newlines (Continues joins those lines).
type CSVDecoder struct {
	loc  *time.Location
	buf  []byte
	cols [csvColumns]string
}

// csvColumns is the number of columns of PostgreSQL 14 and later; older
// servers write fewer (13: 24, 9.0–12: 23), all in the same order.
const csvColumns = 26

// The csvlog columns, in order.
const (
	cLogTime = iota
	cUser
	cDB
	cPID
	cConnFrom
	cSession
	cSessionLine
	cCommandTag
	cSessionStart
	cVXID
	cTXID
	cSeverity
	cSQLState
	cMessage
	cDetail
	cHint
	cInternalQuery
	cInternalQueryPos
	cContext
	cQuery
	cQueryPos
	cLocation
	cApp
	cBackendType
	cLeaderPID
	cQueryID
)

// minColumns is what a record needs: up to application_name.
const minColumns = cApp + 1

// NewCSV returns a csvlog decoder.
func NewCSV() decode.Decoder { return &CSVDecoder{buf: make([]byte, 0, 1024)} }

// Configure implements decode.Configurable: the zone of stamps whose zone
// is an abbreviation.
func (d *CSVDecoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

// Decode implements decode.Decoder.
func (d *CSVDecoder) Decode(rec []byte, ev *event.Event) error {
	d.buf = d.buf[:0]
	n, err := d.split(view.String(trimEOL(rec)))
	if err != nil {
		return err
	}
	if n < minColumns {
		return &decode.Error{Format: FormatCSV, Offset: len(rec), Reason: "record has " + strconv.Itoa(n) + " columns, want at least " + strconv.Itoa(minColumns)}
	}
	c := &d.cols
	e := entry{
		time: c[cLogTime], user: c[cUser], db: c[cDB], pid: c[cPID],
		session: c[cSession], sessionLine: c[cSessionLine], commandTag: c[cCommandTag],
		vxid: c[cVXID], txid: c[cTXID], severity: c[cSeverity], sqlstate: c[cSQLState],
		message: c[cMessage], detail: c[cDetail], hint: c[cHint], internalQuery: c[cInternalQuery],
		context: c[cContext], query: c[cQuery], app: c[cApp],
		backendType: c[cBackendType], queryID: c[cQueryID],
	}
	if e.txid == "0" {
		e.txid = ""
	}
	if e.queryID == "0" {
		e.queryID = ""
	}
	e.host, e.port = splitClient(c[cConnFrom])
	if e.time == "" {
		return &decode.Error{Format: FormatCSV, Offset: 0, Field: "log_time", Reason: "no time stamp"}
	}
	return fill(ev, &e, FormatCSV, d.loc, &d.buf)
}

// split reads the columns of s into d.cols and returns how many there
// were (columns past csvColumns are ignored). A quoted column with doubled
// quotes is undoubled into d.buf; others alias s.
func (d *CSVDecoder) split(s string) (int, error) {
	n := 0
	i := 0
	for {
		var col string
		if i < len(s) && s[i] == '"' {
			j := i + 1
			doubled := false
			for {
				if j >= len(s) {
					return n, &decode.Error{Format: FormatCSV, Offset: i, Reason: "unterminated quoted column " + strconv.Itoa(n+1)}
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						doubled = true
						j += 2
						continue
					}
					break
				}
				j++
			}
			col = s[i+1 : j]
			if doubled {
				col = undouble(col, &d.buf)
			}
			i = j + 1
			if i < len(s) && s[i] != ',' {
				return n, &decode.Error{Format: FormatCSV, Offset: i, Reason: "text after the closing quote of column " + strconv.Itoa(n+1)}
			}
		} else {
			j := i
			for j < len(s) && s[j] != ',' {
				j++
			}
			col = s[i:j]
			i = j
		}
		if n < csvColumns {
			d.cols[n] = col
		}
		n++
		if i >= len(s) {
			break
		}
		i++ // the comma
	}
	for k := n; k < csvColumns; k++ {
		d.cols[k] = ""
	}
	return n, nil
}

// Continues implements decode.Joiner: inside a quoted column (an odd
// number of quotes so far: doubled quotes count two) every line continues
// the record.
func (d *CSVDecoder) Continues(rec, line []byte) bool {
	q := 0
	for _, c := range rec {
		if c == '"' {
			q++
		}
	}
	return q%2 == 1
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
