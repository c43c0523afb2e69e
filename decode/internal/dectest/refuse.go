package dectest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
)

// Bad is a record a decoder must refuse, and the *decode.Error it must
// refuse it with: the field it names, a part of its reason, its offset.
// Format is the decoder's, for CheckBadFormats.
type Bad struct {
	Format, Rec, Field, Reason string
	Offset                     int
}

// CheckBad decodes each bad record with a new decoder (with Expand if it
// is an Expander) into an event bound to an open Dict, and checks how it
// is refused.
func CheckBad(t *testing.T, format string, newDecoder func() decode.Decoder, bad []Bad) {
	t.Helper()
	for _, b := range bad {
		d := newDecoder()
		if x, ok := d.(decode.Expander); ok {
			d = expandWith(x)
		}
		_, err := DecodeLine(d, b.Rec, time.Time{})
		WantError(t, b.Rec, err, decode.Error{Format: format, Offset: b.Offset, Field: b.Field, Reason: b.Reason})
	}
}

// CheckBadFormats is CheckBad for the formats of a package with several
// decoders: each bad record is decoded by a new decoder of its Format.
func CheckBadFormats(t *testing.T, bad []Bad) {
	t.Helper()
	for _, b := range bad {
		_, err := DecodeAs(t, b.Format, []byte(b.Rec))
		WantError(t, b.Format+" "+b.Rec, err, decode.Error{Format: b.Format, Offset: b.Offset, Field: b.Field, Reason: b.Reason})
	}
}

// WantError fails t, saying where, unless err is a *decode.Error like
// want: the same format, offset and field, and want's reason within its
// own.
func WantError(t testing.TB, where string, err error, want decode.Error) {
	t.Helper()
	var de *decode.Error
	if !errors.As(err, &de) {
		t.Errorf("%.80s: err = %v, want a *decode.Error", where, err)
		return
	}
	if de.Format != want.Format || de.Offset != want.Offset || de.Field != want.Field || !strings.Contains(de.Reason, want.Reason) {
		t.Errorf("%.80s: got %v (format %q offset %d field %q), want format %q offset %d field %q reason ~%q",
			where, de, de.Format, de.Offset, de.Field, want.Format, want.Offset, want.Field, want.Reason)
	}
}

// Refused reports whether err refused rec, for fuzz targets, which then
// stop: it fails t unless the error is a *decode.Error whose offset lies
// within rec (or is -1, for none).
func Refused(t *testing.T, rec []byte, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var de *decode.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *decode.Error", err)
	}
	if de.Offset < -1 || de.Offset > len(rec) {
		t.Fatalf("offset %d outside the record's %d bytes", de.Offset, len(rec))
	}
	return true
}
