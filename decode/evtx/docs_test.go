package evtx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsProblemForm: docs/cli.md shows a damaged record's message in
// the form Problem writes it, and docs/formats.md documents the format
// under the name it is registered as.
func TestDocsProblemForm(t *testing.T) {
	cli, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	msg := (&Problem{Offset: 892992, Record: 1766, Reason: "…"}).Error()
	if !strings.Contains(string(cli), "`FILE: "+msg+"`") {
		t.Errorf("docs/cli.md does not show a damaged record as %q", "FILE: "+msg)
	}
	formats, err := os.ReadFile(filepath.Join("..", "..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(formats), "\n## "+Format+"\n") || !strings.Contains(string(formats), "| [`"+Format+"`](#"+Format+") |") {
		t.Errorf("docs/formats.md has no section or table row for format %s", Format)
	}
}
