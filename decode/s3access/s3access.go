// Package s3access decodes Amazon S3 server access log lines, and the CSV
// export of S3 data events that honey-bucket services write (CloudTrail
// events of a watched bucket, one a row: Event Type, Event Name, Request
// ID, User ID, Request Parameters, …).
//
// An access log line's fields take the names AWS's documentation gives
// them, in snake case (bucket_owner, remote_ip, operation, request_uri,
// http_status, …). A CSV row's columns take CloudTrail's names (eventName,
// sourceIPAddress, userIdentity.accountId, requestParameters.bucketName),
// since they are CloudTrail events: CloudTrail rules apply to them as
// they are, under logsource aws / cloudtrail.
package s3access

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/headerline"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "s3access"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes access log lines and honey-bucket CSV rows. It is an
// Expander so that a CSV header line yields no event: it only sets the
// columns. The values it stores alias the record or the decoder's scratch
// buffers and are valid until the next record.
type Decoder struct {
	cols    []column // CSV columns in force: the last header's, else the default
	toks    []token
	unq     []byte // scratch: unquoted CSV values
	name    []byte // scratch: field names built from parts
	ev      *event.Event
	csv     csvCaptured
	dictFor *event.Dict
	ids     []int32 // Dict ids of accessFields
	has     []bool
}

type token struct {
	s   string
	off int
}

// New returns an S3 access log decoder.
func New() decode.Decoder {
	return &Decoder{cols: defaultColumns, toks: make([]token, 0, 32), unq: make([]byte, 0, 1024), name: make([]byte, 0, 64)}
}

// Expand implements decode.Expander: a log line or CSV row gives one event,
// a CSV header none.
func (d *Decoder) Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error {
	return headerline.Expand(d.decode, rec, ev, emit)
}

// Decode implements decode.Decoder. A CSV header sets the columns and is
// refused as an event, since it holds none; callers that take headers use
// Expand.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	return headerline.Decode(d.decode, rec, ev, Format, "CSV header line: names the columns of the rows that follow, holds no event")
}

func (d *Decoder) decode(rec []byte, ev *event.Event) (header bool, err error) {
	if n := len(rec); n > 0 && rec[n-1] == '\r' {
		rec = rec[:n-1]
	}
	if len(rec) == 0 {
		return false, &decode.Error{Format: Format, Offset: 0, Reason: "empty record"}
	}
	if isCSV(rec) {
		return d.decodeCSV(rec, ev)
	}
	return false, d.decodeAccess(rec, ev)
}
