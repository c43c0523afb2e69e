package payload

import (
	"regexp"
	"strings"
)

// CommandInjection reports whether a decoded value carries an OS command
// meant for a shell the application passes it to: a command separator or
// substitution followed by a command, or a known download-and-run or
// reverse-shell shape.
func CommandInjection(v string) bool {
	if len(v) < 3 {
		return false
	}
	if !strings.ContainsAny(v, ";|&`$\n\r()<>") {
		// Without a separator only a program named by its path is left.
		return strings.Contains(v, "bin/") && binPath.MatchString(strings.ToLower(v))
	}
	low := strings.ToLower(v)
	for _, re := range cmdPatterns {
		if re.MatchString(low) {
			return true
		}
	}
	return binPath.MatchString(low)
}

// binPath is a value that is a program named by its path (/usr/bin/id),
// alone or after a separator.
var binPath = regexp.MustCompile(`(^|[;|&]\s*)/?(usr/)?s?bin/[a-z]+`)

// shellCommands are the programs an injected command runs first: recon,
// download, shells and interpreters.
const shellCommands = `(cat|ls|id|whoami|uname|pwd|wget|curl|nc|ncat|netcat|bash|sh|zsh|ksh|python[23]?|perl|php|ruby|ping|nslookup|dig|sleep|echo|rm|chmod|chown|touch|mkdir|ps|kill|busybox|tftp|telnet|ifconfig|ip|netstat|env|set|dir|type|net|ipconfig|systeminfo|tasklist|powershell|cmd|certutil|bitsadmin|whoami\.exe|cmd\.exe|powershell\.exe|/bin/[a-z]+|/usr/bin/[a-z]+)`

var cmdPatterns = []*regexp.Regexp{
	// A separator (; | || && newline) then a command word and an argument
	// or the end.
	regexp.MustCompile(`([;|&\n\r]|\|\||&&)\s*` + shellCommands + `(\s|$|[;|&<>])`),
	// Command substitution: $(…) and backticks around a command.
	regexp.MustCompile(`\$\(\s*` + shellCommands + `\b|` + "`" + `\s*` + shellCommands + `\b[^` + "`" + `]*` + "`"),
	// Server-side include of a command, and Windows' dir of a drive.
	regexp.MustCompile(`<!--#(exec|include)\b|(\s|[;|&])dir\s+[a-z]:`),
	// Code injection that calls a shell, and the ping of time-based blind
	// command injection.
	regexp.MustCompile(`\b(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s*\(\s*['"]|\bping(\.exe)?\s+-[nic]\s+\d+\s`),
	// Shell variable tricks used to dodge filters: ${IFS}, $IFS$9.
	regexp.MustCompile(`\$\{?ifs\}?`),
	// Reverse shells and download-and-run.
	regexp.MustCompile(`/dev/(tcp|udp)/|\b(nc|ncat|netcat)\b.{0,40}\s-[a-z]*e\s|\b(wget|curl)\b.{0,120}\|\s*(ba|z|k)?sh\b`),
}
