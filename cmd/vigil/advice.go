package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// keyCommand is the command that creates a read key in workspace ws of the
// store in dataDir.
func keyCommand(dataDir, ws string) string {
	return selfCommand() + " keys create --data-dir " + shellQuote(dataDir) + " --workspace " + shellQuote(ws) + " --scope read"
}

// selfCommand is how to run this binary again, for advice a user pastes:
// "go run ./cmd/vigil" when it runs under `go run` (the README's demo
// command), else "vigil".
func selfCommand() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/vigil"
	}
	return "vigil"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
