package payload

import "github.com/corazawaf/libinjection-go"

// CrossSite reports whether a decoded value carries cross-site scripting.
func CrossSite(v string) bool {
	return libinjection.IsXSS(v)
}
