package payload

import (
	"regexp"
	"strings"
)

// PathTraversal reports whether a decoded value climbs out of the web root
// or names a system file: `../` runs (either slash, also the overlong and
// Unicode forms once decoded), absolute paths to well-known files, and
// file-inclusion wrappers.
func PathTraversal(v string) bool {
	if len(v) < 4 {
		return false
	}
	low := strings.ToLower(v)
	// Overlong UTF-8 of '.' and '/' (%c0%ae, %c0%af) that old servers
	// accepted: fold them to their ASCII meaning.
	if strings.ContainsAny(low, "\xc0\xc1\xe0") {
		low = strings.NewReplacer("\xc0\xae", ".", "\xc0\xaf", "/", "\xc1\x9c", "\\", "\xe0\x80\xae", ".").Replace(low)
	}
	if strings.Contains(low, "/./") || strings.Contains(low, "\\.\\") {
		// "/./" is a no-op step written to break up a "../../" run.
		low = strings.NewReplacer("/./", "/", "\\.\\", "\\").Replace(low)
	}
	if strings.Contains(low, "..") {
		if traversalUp.MatchString(low) {
			return true
		}
	}
	if !strings.ContainsAny(low, "/\\:.\x00") {
		return false
	}
	for i := range traversalPatterns {
		c := &traversalPatterns[i]
		for _, w := range c.need {
			if strings.Contains(low, w) {
				if c.re.MatchString(low) {
					return true
				}
				break
			}
		}
	}
	return false
}

// traversalUp is two steps up, or one step up to a well-known directory:
// one `../` alone is how relative links are written.
var traversalUp = regexp.MustCompile(`(\.\.+([/\\]+|0x2f|0x5c)){2,}|(^|[/\\=])\.\.+[/\\]+(etc|windows|winnt|boot|proc|usr|var|root|home|system32|inetpub|web-inf|meta-inf)\b|[/\\]\.\.+$`)

// traversalPatterns are checks each run only when the value holds one of
// the words it needs.
var traversalPatterns = []struct {
	need []string
	re   *regexp.Regexp
}{
	// System files named by absolute path.
	{[]string{"etc", "proc", "win", "boot", "web-inf"}, regexp.MustCompile(`(^|[/\\=])(etc[/\\](passwd|shadow|group|hosts|issue|hostname|crontab|sudoers|ssh/)|proc[/\\](self|\d+)[/\\]|(c:)?[/\\]?(windows|winnt)[/\\](win\.ini|system\.ini|system32)|boot\.ini|web-inf[/\\]web\.xml)`)},
	// Files only an attacker asks for, also with the separators stripped
	// by a filter that the attack tried to get around.
	{[]string{"etc", ".ini", "web-inf"}, regexp.MustCompile(`etc[/\\]*(passwd|shadow)\b|\b(boot|win|system)\.ini\b|web-inf[/\\]*web\.xml`)},
	// File-inclusion wrappers.
	{[]string{":/"}, regexp.MustCompile(`^(php|file|zip|phar|expect|data|glob):/|php://(filter|input)`)},
	// A NUL byte that cuts the path short.
	{[]string{"\x00"}, regexp.MustCompile(`\.\.[/\\].*\x00`)},
}
