package store

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// How entity searches compare values (EventQuery.Entity, AlertQuery.Entity).
// An investigator types a name as it comes to mind, not as the log spelled
// it, so every kind of value whose system ignores case is compared without
// regard to case:
//
//   - host names and domains (DNS and NetBIOS names ignore case), and IP
//     addresses (IPv6 hex digits);
//   - accounts (user.name, db.user): Windows and directory accounts ignore
//     case; Unix ones in principle do not, but two Unix accounts that differ
//     only in case are rare enough that finding both beats finding neither;
//   - database names, service (application) names, cloud accounts and
//     hashes;
//   - file paths and process names of Windows: those of events whose
//     logsource product is windows, and any that look like a Windows path
//     (a drive letter and colon, or \\ for a share), NTFS ignoring case.
//
// Exact, because their systems tell case apart: Unix paths and process
// names, and URLs (their paths and queries are case-sensitive; their hosts
// are searchable through url.domain, which ignores case).

// FoldCase returns v with each letter mapped to one lower-case form of all
// the letters that Unicode simple case folding makes equal to it ("K", "k"
// and the Kelvin sign all become "k"). Bytes that are not UTF-8 are kept as
// they are, so that distinct values do not collapse into U+FFFD.
func FoldCase(v string) string {
	i := 0
	for i < len(v) && v[i] < utf8.RuneSelf && (v[i] < 'A' || v[i] > 'Z') {
		i++
	}
	if i == len(v) {
		return v // nothing to fold: the common case, without allocating
	}
	b := make([]byte, i, len(v)+4)
	copy(b, v[:i])
	for i < len(v) {
		c := v[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, c)
			i++
			continue
		}
		b = utf8.AppendRune(b, foldRune(r))
		i += n
	}
	return string(b)
}

// foldRune maps r to the lower case of the smallest rune of its case
// folding orbit: the same rune for every member of the orbit.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return unicode.ToLower(m)
}

// FoldedEqual reports whether FoldCase(v) == folded, without allocating: for
// comparing many values against one folded query.
func FoldedEqual(v, folded string) bool {
	j := 0
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if j == len(folded) || folded[j] != c {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			if j == len(folded) || folded[j] != c {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		i += n
		r = foldRune(r)
		fr, fn := utf8.DecodeRuneInString(folded[j:])
		if fr != r || fn != utf8.RuneLen(r) {
			return false
		}
		j += fn
	}
	return j == len(folded)
}

// FieldIgnoresCase reports whether the value v of common field f, in an
// event of logsource product product, is compared without regard to case.
func FieldIgnoresCase(f int, product, v string) bool {
	switch f {
	case event.SourceIP, event.DestinationIP, event.HostIP, event.HostName, event.URLDomain,
		event.UserName, event.DBUser, event.DBName, event.ServiceName, event.CloudAccountID:
		return true
	case event.ProcessExecutable, event.ProcessName, event.FilePath:
		return product == "windows" || windowsPath(v)
	}
	return false
}

// EntityIgnoresCase reports whether an alert entity of type typ and value v
// is compared without regard to case.
func EntityIgnoresCase(typ, v string) bool {
	switch typ {
	case alert.EntityIP, alert.EntityHost, alert.EntityAccount, alert.EntityDatabase,
		alert.EntityApplication, alert.EntityCloudResource, alert.EntityHash:
		return true
	case alert.EntityProcess, alert.EntityFile:
		return windowsPath(v)
	}
	return false
}

// windowsPath reports whether v looks like a Windows path: C:\…, C:/… or
// \\server\share.
func windowsPath(v string) bool {
	if strings.HasPrefix(v, `\\`) {
		return true
	}
	return len(v) >= 3 && v[1] == ':' && (v[2] == '\\' || v[2] == '/') &&
		('A' <= v[0] && v[0] <= 'Z' || 'a' <= v[0] && v[0] <= 'z')
}
