package list

import (
	"strings"

	"github.com/vigil-sec/vigil/intel"
)

// mixedLine reads a line of a list of any kind of value. A "#" starts a
// comment at the start of a line or after white space only, since URLs
// carry fragments.
func (st *state) mixedLine(line string) {
	data := strings.TrimSpace(line)
	if strings.HasPrefix(data, "#") || strings.HasPrefix(data, ";") || strings.HasPrefix(data, "//") {
		st.header(strings.TrimSpace(data[1:]))
		return
	}
	// A comment after the value, "#" or Spamhaus' ";", needs white space
	// before it: both may appear inside a URL.
	for _, c := range []string{" #", "\t#", " ;", "\t;"} {
		if i := strings.Index(data, c); i >= 0 {
			data = strings.TrimSpace(data[:i])
		}
	}
	if data == "" {
		return
	}
	st.sawData = true
	fields := strings.Fields(data)
	v := fields[0]
	switch {
	case len(fields) == 2 && (v == "0.0.0.0" || v == "127.0.0.1" || v == "::" || v == "::1"):
		v = fields[1] // a hosts file: the name after the sink address
	case len(fields) > 1:
		st.bad("expected one value, got %d fields", len(fields))
		return
	}
	k, n, err := intel.Infer(v)
	if err != nil {
		st.bad("%v", err)
		return
	}
	st.add(k, n, st.category)
}
