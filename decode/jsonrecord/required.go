package jsonrecord

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
)

// A format's decoder refuses a record that lacks a key every record of the
// format carries: without the check, any JSON object (a record wrapped in
// another, another format's record) would decode as an event of the
// format with nothing in it and the receive time for its time.

// Require returns nil when every value of kv (key, value, key, value …),
// what the hooks captured for the format's required keys, is set; else
// the error of Missing for the keys whose values are empty. A key may
// carry its alternatives after its name ("time (or eventTimestamp)"). It
// does not allocate unless a key is missing.
func (r *Record[C]) Require(kv ...string) error {
	for i := 1; i < len(kv); i += 2 {
		if kv[i] == "" {
			return r.missing(kv)
		}
	}
	return nil
}

func (r *Record[C]) missing(kv []string) error {
	var names, all []string
	for i := 0; i+1 < len(kv); i += 2 {
		all = append(all, kv[i])
		if kv[i+1] == "" {
			names = append(names, kv[i])
		}
	}
	return Missing(r.format, Wrapper(r.obj, all...), names...)
}

// Object returns the object of the record decoded last (nil before the
// first), valid until the next record: for the errors of decoders that
// check their keys themselves.
func (r *Record[C]) Object() *fastjson.Object { return r.obj }

// Missing is the error for a record without the required keys names. A
// non-empty under names the top-level key the record seems wrapped in
// (Wrapper).
func Missing(format, under string, names ...string) *decode.Error {
	reason := "missing required key "
	if len(names) > 1 {
		reason = "missing required keys "
	}
	reason += strings.Join(names, ", ")
	return &decode.Error{Format: format, Offset: -1, Reason: reason + WrapHint(under)}
}

// WrapHint is what Missing adds for a record found under the key under:
// "" when under is "".
func WrapHint(under string) string {
	if under == "" {
		return ""
	}
	return " (found under " + decode.QuoteValue(under) + ": send the record itself, not an object around it)"
}

// Wrapper returns the top-level key of o whose value is an object that
// holds more of names, a shape's required keys, than o itself does (ASCII
// case-insensitively, a name or one of its alternatives: "time (or
// eventTimestamp)"), "" when there is none: the key a wrapped record
// ({"event":{…}}) is under. A member that holds fewer (properties with
// one of a diagnostic record's keys) is part of the record. o may be nil.
func Wrapper(o *fastjson.Object, names ...string) string {
	if o == nil || len(names) == 0 {
		return ""
	}
	held := func(o *fastjson.Object) int {
		n := 0
		for _, name := range names {
			if holdsOne(o, alternatives(name)) {
				n++
			}
		}
		return n
	}
	top := held(o)
	under := ""
	o.Visit(func(k []byte, v *fastjson.Value) {
		if inner := v.GetObject(); under == "" && inner != nil && held(inner) > top {
			under = string(k)
		}
	})
	return under
}

// alternatives splits "time (or eventTimestamp, created)" into its names.
func alternatives(n string) []string {
	name, rest, ok := strings.Cut(n, " (or ")
	if !ok {
		return []string{n}
	}
	return append([]string{name}, strings.Split(strings.TrimSuffix(rest, ")"), ", ")...)
}

// holdsOne reports whether o has one of keys (ASCII case-insensitively).
func holdsOne(o *fastjson.Object, keys []string) bool {
	found := false
	o.Visit(func(k []byte, _ *fastjson.Value) {
		for _, n := range keys {
			found = found || bytes.EqualFold(k, []byte(n))
		}
	})
	return found
}
