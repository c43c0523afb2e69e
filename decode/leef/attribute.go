package leef

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/kv"
)

// attributes splits s into key=value pairs in d.kv: on delim, the key up to
// the first '=' (values keep theirs) and trimmed of spaces. Some devices
// (Aruba ClearPass) write LEEF 1.0 with spaces in place of tabs; when a
// record holds no delimiter but several '=', it is split as CEF would be:
// a key is a word right before '=' that follows a space.
func (d *Decoder) attributes(s string, delim byte) {
	d.kv = d.kv[:0]
	if strings.IndexByte(s, delim) < 0 && strings.Count(s, "=") > 1 {
		d.spaced(s)
		return
	}
	for len(s) > 0 {
		field := s
		if j := strings.IndexByte(s, delim); j >= 0 {
			field, s = s[:j], s[j+1:]
		} else {
			s = ""
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			continue // text without '=' carries no attribute
		}
		d.add(k, v)
	}
}

func (d *Decoder) spaced(s string) {
	key, val := "", -1
	for j := 0; j < len(s); j++ {
		if s[j] != '=' {
			continue
		}
		k := j
		for k > 0 && isKeyByte(s[k-1]) {
			k--
		}
		if k == j || k > 0 && s[k-1] != ' ' && val >= 0 {
			continue
		}
		if val >= 0 {
			d.add(key, s[val:k])
		}
		key, val = s[k:j], j+1
	}
	if val >= 0 {
		d.add(key, s[val:])
	}
}

func (d *Decoder) add(k, v string) {
	k = strings.TrimSpace(k)
	v = strings.TrimSpace(v)
	if k == "" || v == "" {
		return // "OSUser=": no value, as a JSON null
	}
	d.kv = append(d.kv, kv.Pair{Key: k, Val: v})
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}
