package payload

import (
	"html"
	"regexp"
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// CrossSite reports whether a decoded value carries cross-site scripting:
// libinjection's HTML5 tokenizer, on the value and on it with HTML entities
// decoded, then checks for what it does not look at — a bare
// `javascript:`/`vbscript:` URL (a value that lands in an href) and script
// written into an attribute or a template.
func CrossSite(v string) bool {
	// Markup, an attribute, a script URL or an entity needs one of these.
	if len(v) < 4 || !strings.ContainsAny(v, "<>\"'`=:&(") {
		return false
	}
	if libinjection.IsXSS(v) {
		return true
	}
	d := v
	if strings.IndexByte(v, '&') >= 0 {
		d = html.UnescapeString(v)
		if d != v && libinjection.IsXSS(d) {
			return true
		}
	}
	if !strings.ContainsAny(d, ":<(=`{") {
		return false
	}
	low := strings.ToLower(d)
	for _, re := range xssPatterns {
		if re.MatchString(low) {
			return true
		}
	}
	return false
}

var xssPatterns = []*regexp.Regexp{
	// A script URL, white space and control characters allowed inside the
	// scheme as browsers do.
	regexp.MustCompile(`^[\s\x00-\x20]*(j[\s]*a[\s]*v[\s]*a[\s]*s[\s]*c[\s]*r[\s]*i[\s]*p[\s]*t|vbscript|livescript)[\s]*:`),
	regexp.MustCompile(`^[\s]*data:text/html`),
	// Markup that runs script.
	regexp.MustCompile(`<[\s/]*(script|iframe|object|embed|svg|math|applet|meta|base|link|style|form|isindex|frameset|img|video|audio|body|details|marquee|input|textarea|select|keygen|xss)\b`),
	// An event handler attribute written after a closed attribute value.
	regexp.MustCompile(`['"\s/]on[a-z]{3,30}[\s]*=[\s]*['"]?[\w$.(\[]`),
	// Script calls typical of a probe.
	regexp.MustCompile(`\b(alert|prompt|confirm|eval|settimeout|setinterval)[\s]*(\(|` + "`" + `)|document\.(cookie|domain|write|location)|window\.location|string\.fromcharcode|\bexpression[\s]*\(`),
}
