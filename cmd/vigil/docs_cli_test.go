package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// otherToolFlags are flags the docs show for programs other than vigil.
var otherToolFlags = map[string]string{
	"data-binary": "curl",
	"octet-count": "logger",
	"depth":       "git clone",
	"state":       "az sql server audit-policy update",
}

// codeText is a piece of code in a document: one line of a fenced block,
// or one inline code span.
type codeText struct {
	where string // file:line
	text  string
}

// docCode returns the code of the README and every docs/*.md.
func docCode(t *testing.T) []codeText {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	span := regexp.MustCompile("`[^`]+`")
	var out []codeText
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if name != "README.md" {
			name = "docs/" + name
		}
		lines := strings.Split(string(data), "\n")
		var prose strings.Builder
		proseStart := map[int]int{} // offset in prose -> line number
		fenced := false
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				fenced = !fenced
				continue
			}
			if fenced {
				// A comment is prose ("# vigil and the two decoders").
				if c := strings.Index(l, " #"); c >= 0 {
					l = l[:c]
				} else if strings.HasPrefix(strings.TrimSpace(l), "#") {
					continue
				}
				out = append(out, codeText{name + ":" + strconv.Itoa(i+1), l})
				continue
			}
			proseStart[prose.Len()] = i + 1
			prose.WriteString(l + "\n")
		}
		text := prose.String()
		for _, m := range span.FindAllStringIndex(text, -1) {
			line := 0
			for off, n := range proseStart {
				if off <= m[0] && n > line {
					line = n
				}
			}
			out = append(out, codeText{name + ":" + strconv.Itoa(line), strings.Trim(text[m[0]:m[1]], "`")})
		}
	}
	return out
}

var (
	vigilCall = regexp.MustCompile(`(?:^|[\s/(])vigil((?:\s+[a-z][a-z0-9-]*)+)`)
	flagRef   = regexp.MustCompile(`(?:^|[\s"'(\[])--([a-z][a-z0-9-]*)`)
)

// TestDocsNameRealCommandsAndFlags keeps the README and docs/*.md from
// promising commands and flags that do not exist: in their code, every
// `vigil CMD` must be a command and every --flag after it one of its
// flags; any other --flag must be a flag of some vigil command (or a listed
// flag of another program the docs show).
func TestDocsNameRealCommandsAndFlags(t *testing.T) {
	root := newRoot()
	anyFlag := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { anyFlag[f.Name] = true })
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	checked := 0
	for _, c := range docCode(t) {
		attributed := map[int]bool{} // offsets of flags checked against their command
		for _, m := range vigilCall.FindAllStringSubmatchIndex(c.text, -1) {
			words := strings.Fields(c.text[m[2]:m[3]])
			cmd := root
			for _, w := range words {
				sub, _, err := cmd.Find([]string{w})
				if err != nil || sub == cmd {
					break
				}
				cmd = sub
			}
			if cmd == root {
				t.Errorf("%s: `vigil %s` is not a vigil command (in %q)", c.where, words[0], c.text)
				continue
			}
			checked++
			// The command's flags run to the end of its segment.
			rest := c.text[m[3]:]
			end := len(rest)
			for _, sep := range []string{" | ", ";", "&&", " #", "`"} {
				if i := strings.Index(rest, sep); i >= 0 && i < end {
					end = i
				}
			}
			for _, fm := range flagRef.FindAllStringSubmatchIndex(rest[:end], -1) {
				name := rest[fm[2]:fm[3]]
				attributed[m[3]+fm[2]] = true
				if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil && name != "help" {
					t.Errorf("%s: %s has no flag --%s (in %q)", c.where, cmd.CommandPath(), name, c.text)
				}
			}
		}
		for _, fm := range flagRef.FindAllStringSubmatchIndex(c.text, -1) {
			name := c.text[fm[2]:fm[3]]
			if attributed[fm[2]] || otherToolFlags[name] != "" || name == "help" {
				continue
			}
			checked++
			if !anyFlag[name] {
				t.Errorf("%s: no vigil command has a flag --%s (in %q)", c.where, name, c.text)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d commands and flags: is the docs' code read right?", checked)
	}
}
