// Package accesslog decodes web server access logs in the Common and
// Combined Log Formats that Apache httpd and nginx write by default, with
// or without a virtual host in front:
//
//	[vhost ]client ident user [10/Oct/2000:13:55:36 -0700] "GET /a?b HTTP/1.1" 200 2326[ "referer" "user agent"[ …]]
//
// A source may name its layout instead (decode.Options.Layout): a named
// layout, an Apache LogFormat or an nginx log_format string, compiled once
// into a parser (layout.go).
//
// Fields take the W3C extended log names that Sigma's webserver rules use
// (c-ip, cs-method, cs-uri-query, sc-status, cs-user-agent …) and fill the
// ECS common fields; the logsource is category webserver.
package accesslog

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "accesslog"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes access log lines. It is not safe for concurrent use.
type Decoder struct {
	// loc is the zone of stamps written without an offset. Apache and
	// nginx always write one, so it is rarely used.
	loc *time.Location
	// lay is the source's layout (decode.Options.Layout), nil for
	// Common/Combined read by shape; vals holds a line's values by it.
	lay  *layout
	vals []string
}

// New returns an access log decoder.
func New() decode.Decoder { return &Decoder{} }

// Configure implements decode.Configurable.
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	if o.Layout == "" {
		return nil
	}
	l, err := compileLayout(o.Layout)
	if err != nil {
		return err
	}
	d.lay, d.vals = l, make([]string, len(l.items))
	return nil
}

// Field names, after the W3C extended log format as Sigma uses it.
var (
	fieldHost      = []byte("cs-host")
	fieldClient    = []byte("c-ip")
	fieldIdent     = []byte("ident")
	fieldUser      = []byte("cs-username")
	fieldRequest   = []byte("request")
	fieldMethod    = []byte("cs-method")
	fieldURIQuery  = []byte("cs-uri-query")
	fieldURIStem   = []byte("cs-uri-stem")
	fieldVersion   = []byte("cs-version")
	fieldStatus    = []byte("sc-status")
	fieldBytes     = []byte("sc-bytes")
	fieldReferer   = []byte("cs-referer")
	fieldUserAgent = []byte("cs-user-agent")
)

// Decode implements decode.Decoder. Values alias rec.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	base := 0
	// Some exports wrap each line in one more pair of quotes
	// ("1.2.3.4 - - […] "GET / HTTP/1.1" 200 5 "-" "ua""); a log line
	// itself never starts with one.
	if len(rec) > 1 && rec[0] == '"' {
		rec, base = rec[1:], 1
		if rec[len(rec)-1] == '"' {
			rec = rec[:len(rec)-1]
		}
	}
	if len(rec) == 0 {
		return &decode.Error{Format: Format, Offset: 0, Reason: "empty line"}
	}
	if d.lay != nil {
		clear(d.vals)
		t, err := d.lay.parse(view.String(rec), d.vals, d.loc)
		if err != nil {
			err.Offset += base
			return err
		}
		d.lay.fill(d.vals, t, ev)
		return nil
	}
	l, err := parse(view.String(rec), d.loc)
	if err != nil {
		err.Offset += base
		return err
	}
	l.fill(ev)
	return nil
}
