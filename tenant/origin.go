package tenant

import (
	"net/url"
	"strings"
)

// SameOrigin reports whether a browser request with these headers may
// come from the site at host's own pages: its Sec-Fetch-Site, when sent,
// says same-origin or none (typed in, a bookmark), and its Origin, when
// sent, names host. A request with neither (curl, old browsers) passes, as
// it cannot be a modern browser's cross-site request. The API's session
// checks and the dashboard's sign-in form both ask it, so that they refuse
// the same requests.
func SameOrigin(secFetchSite, origin, host string) bool {
	if secFetchSite != "" && secFetchSite != "same-origin" && secFetchSite != "none" {
		return false
	}
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
