package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

// TestIncidentsCLIDoc ties docs/cli.md to the incidents commands: each
// is named there, with every flag it takes.
func TestIncidentsCLIDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	inc, _, err := root.Find([]string{"incidents"})
	if err != nil || inc.Name() != "incidents" {
		t.Fatalf("no incidents command: %v", err)
	}
	if len(inc.Commands()) < 7 {
		t.Fatalf("incidents has %d subcommands, want at least list, show, assign, stage, comment, close, merge", len(inc.Commands()))
	}
	for _, sub := range inc.Commands() {
		if !bytes.Contains(doc, []byte("`"+sub.CommandPath())) {
			t.Errorf("docs/cli.md does not document %s", sub.CommandPath())
		}
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			if !bytes.Contains(doc, []byte("--"+f.Name)) {
				t.Errorf("docs/cli.md does not document %s's --%s", sub.CommandPath(), f.Name)
			}
		})
	}
}
