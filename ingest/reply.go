package ingest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// MaxListedRejections caps the rejections a reply lists; RejectedCount
// still counts them all, so a body of a million bad lines does not make a
// reply of megabytes.
const MaxListedRejections = 1000

// Rejection names one record that was not accepted, and why.
type Rejection struct {
	// Line is the record's 1-based line in the body; for a JSON array or
	// envelope, its 1-based index in the array.
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Reply is the body of a 202: the request's good records are stored on
// the bus.
type Reply struct {
	Accepted      int         `json:"accepted"`
	Rejected      []Rejection `json:"rejected"`
	RejectedCount int         `json:"rejected_count"`
	Batches       int         `json:"batches"`
}

// ErrorReply is the body of every other status: an RFC 9457 problem
// document (application/problem+json), the shape of every error of the
// API, with ingest's own members as extensions. Type is left out (it is
// about:blank), Title is the status's text and Detail says what is wrong
// and how to fix it.
type ErrorReply struct {
	huma.ErrorModel
	// Formats lists the known formats, when the format was the problem.
	Formats []string `json:"formats,omitempty"`
	// Rejected and RejectedCount are set when every record was rejected
	// (422), or when publishing failed after framing (503).
	Rejected      []Rejection `json:"rejected,omitempty"`
	RejectedCount int         `json:"rejected_count,omitempty"`
	// Accepted and Stored are set when publishing failed: Stored of the
	// Accepted records were stored before the failure.
	Accepted *int `json:"accepted,omitempty"`
	Stored   *int `json:"stored,omitempty"`
}

// problemType is the media type of ErrorReply.
const problemType = "application/problem+json"

func listed(r []Rejection) []Rejection {
	if len(r) > MaxListedRejections {
		return r[:MaxListedRejections]
	}
	if r == nil {
		return []Rejection{}
	}
	return r
}

// writeJSON writes v as JSON of media type ct.
func writeJSON(w http.ResponseWriter, code int, ct string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)              // replies quote URLs and records: keep & < > readable
	if err := enc.Encode(v); err != nil { // our own reply types: cannot happen
		code, ct = http.StatusInternalServerError, problemType
		buf.Reset()
		buf.WriteString(`{"title":"Internal Server Error","status":500,"detail":"encoding the reply failed"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}
