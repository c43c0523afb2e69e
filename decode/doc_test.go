package decode_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

// TestFormatsDocumented: every registered format has a row in the table
// at the top of docs/formats.md.
func TestFormatsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range decode.Formats() {
		if !strings.Contains(string(doc), "| [`"+f+"`](#") {
			t.Errorf("format %s has no row in docs/formats.md's table", f)
		}
	}
}
