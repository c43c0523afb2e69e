package ingest

import (
	"fmt"
	"net/http"

	"github.com/vigil-sec/vigil/decode"
)

// A text log sent with a JSON content type (the README's NDJSON example
// applied to an auth.log) would otherwise answer with one "invalid JSON"
// reason a line. When most lines are not JSON the request is refused once,
// saying that the body is text and how to send it.

// maxListedText caps the lines listed when a body is refused as text: the
// detail says what is wrong with all of them.
const maxListedText = 10

// textLine reports whether rec, which is not valid JSON, reads as a line of
// text rather than as a broken JSON object: a truncated or mangled object
// still begins with '{'. (A line beginning with '[' is text: many logs
// begin with a bracketed time stamp.)
func textLine(rec []byte) bool {
	i := skipWS(rec, 0)
	return i < len(rec) && rec[i] != '{'
}

// mostlyText reports whether most of the records of an NDJSON body are
// lines of text.
func (f *framer) mostlyText() bool {
	return f.textLines > 0 && 2*f.textLines > len(f.recs)+len(f.rejected)
}

// textBody is the refusal of an NDJSON body that is mostly text. format is
// the format the request resolved to.
func (f *framer) textBody(format string) *refusal {
	total := len(f.recs) + len(f.rejected)
	msg := fmt.Sprintf("the body looks like text, not NDJSON: %d of %d lines are not JSON, so nothing was stored; "+
		"send text logs with Content-Type: text/plain", f.textLines, total)
	if guess, _ := decode.Sniff(f.firstText); guess != "" && guess != format {
		msg += " and format=" + guess + " (what line " + fmt.Sprint(f.firstTextLine) + " looks like)"
	}
	listed := f.rejected
	if len(listed) > maxListedText {
		listed = listed[:maxListedText]
		msg += fmt.Sprintf("; the first %d of %d rejected lines are listed", maxListedText, len(f.rejected))
	}
	return &refusal{
		code: http.StatusUnprocessableEntity, noMetric: true, // counted per record
		msg:   msg,
		extra: ErrorReply{Rejected: listed, RejectedCount: len(f.rejected)},
	}
}
