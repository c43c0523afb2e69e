package rule

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// libraryDocs parses data with the YAML library as ParseSet did before the
// fast path: the roots of the documents that are not empty.
func libraryDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 0 {
			continue
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
			continue // an empty document after "---": ParseSet skips it
		}
		out = append(out, root)
	}
}

// sameNode names the first difference between two node trees in what the
// rule parser reads: kind, style, tag, value, line, column and children.
func sameNode(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column {
		return fmt.Errorf("%s: fast {kind %d style %d tag %s value %q at %d:%d}, library {kind %d style %d tag %s value %q at %d:%d}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column)
	}
	if len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast has %d children, library %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkSameAsLibrary fails when the fast parser accepts data and gives
// other nodes than the library, or accepts what the library refuses.
func checkSameAsLibrary(t *testing.T, name string, data []byte) bool {
	t.Helper()
	fast, ok := parseBlockYAML(data)
	if !ok {
		return false
	}
	lib, err := libraryDocs(data)
	if err != nil {
		t.Errorf("%s: the fast parser accepts what the library refuses (%v):\n%s", name, err, data)
		return true
	}
	if len(fast) != len(lib) {
		t.Errorf("%s: fast parser gives %d documents, library %d:\n%s", name, len(fast), len(lib), data)
		return true
	}
	for i := range fast {
		if err := sameNode(fast[i], lib[i], fmt.Sprintf("doc %d", i)); err != nil {
			t.Errorf("%s: %v\n%s", name, err, data)
		}
	}
	return true
}

// Variants of what rule files hold, written from YAML's block syntax: the
// fast parser must read each as the library does, or leave it to it.
var blockYAMLCases = map[string]struct {
	text string
	fast bool // the fast parser is expected to take it
}{
	"rule": {`title: Suspicious "thing" # a comment
id: 5f1a2b3c-0000-4000-8000-000000000001
status: test
description: |
    First line.

    Second paragraph with: a colon and # a hash.
references:
    - https://example.org/a?b=c#frag
    - 'it''s quoted'
author: Someone, Someone Else
date: 2024-02-03
modified: 2024/02/04
tags:
    - attack.t1059.001
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\cmd.exe'
        CommandLine|contains|all:
            - ' /c '
            - "double \"quoted\" \\ back"
        EventID: 4688
        Enabled: true
        Missing: null
        Empty:
        Ratio: 1.5
        Octal: 0o17
        Hex: 0x1F
        Leading: 09
    filter:
        - ParentImage: C:\Windows\explorer.exe
          User|startswith: 'NT AUTHORITY'
        - ParentImage: ~
    condition: selection and not filter
falsepositives:
    - Unknown
level: high
`, true},
	"two documents":                {"title: a\n---\ntitle: b\nlogsource:\n  product: x\n...\n", false},
	"documents split":              {"---\ntitle: a\n---\n# only a comment\n---\ntitle: b\n", true},
	"folded":                       {"description: >\n  one\n  two\n\n  three\nx: 1\n", true},
	"folded strip":                 {"description: >-\n  one\n  two\nx: 1\n", true},
	"literal strip":                {"a: |-\n   x\n   y\n\n\nb: 2\n", true},
	"literal more indented":        {"a: |\n  x\n    y\n  z\n", true},
	"literal at end without break": {"a: |\n  x", false},
	"compact sequence":             {"a:\n- x\n- y: 1\n  z: 2\nb: 3\n", true},
	"nested sequence":              {"a:\n  - - x\n", false},
	"flow":                         {"tags: [a, b]\n", false},
	"flow map":                     {"a: {b: 1}\n", false},
	"anchor":                       {"a: &x 1\nb: *x\n", false},
	"multi-line plain":             {"a: one\n  two\n", false},
	"multi-line quoted":            {"a: 'one\n  two'\n", false},
	"tab":                          {"a:\tb\n", false},
	"crlf":                         {"a: b\r\n", false},
	"bad indent":                   {"a:\n    b: 1\n  c: 2\n", false},
	"map in value":                 {"a: b: c\n", false},
	"quoted keys":                  {"'a b': 1\n\"c\": 2\n", true},
	"key with spaces and pipes":    {"Threat Name|contains: x\n", true},
	"colon in value":               {"a: http://x:80/y\nb: 'c: d'\n", true},
	"hash without space":           {"a: b#c\n", true},
	"unicode":                      {"title: Détection – « x »\nb: ünï: no\n", false},
	"unicode ok":                   {"title: Détection – « x »\nb: ünï\nc:\n  - ä\n", true},
	"scalar document":              {"just text\n", false},
	"empty":                        {"", true},
	"comments only":                {"# a\n# b\n", true},
	"empty item":                   {"a:\n  -\n  - x\n", false},
	"duplicate keys":               {"a: 1\na: 2\n", true},
	"timestamps":                   {"a: 2001-12-14t21:59:43.10-05:00\nb: 2001-12-14 21:59:43.10\nc: 2002-1-2\nd: 2002-13-40\n", true},
	"timestamps more":              {"a: 2001-12-14T21:59:43Z\nb: 2001-12-14 21:59:43\nc: 2001-12-14t21:59:43.1+01:00\nd: 2024-2-3\ne: 2024-02-03T\nf: 2024-02-03 x\ng: 2024-02-03T10:00:00\nh: 2024-02-30\n", true},
	"numbers":                      {"a: +12\nb: -0\nc: 1_000\nd: 1e3\ne: .5\nf: .inf\ng: 18446744073709551615\nh: 99999999999999999999\ni: <<\n", true},
	"escape":                       {`a: "\x41"` + "\n", false},
	"long key":                     {strings.Repeat("k", 1100) + ": 1\n", false},
	"keep":                         {"a: |+\n  x\n\nb: 1\n", false},
}

func TestBlockYAMLLikeLibrary(t *testing.T) {
	for name, c := range blockYAMLCases {
		took := checkSameAsLibrary(t, name, []byte(c.text))
		if took != c.fast {
			t.Errorf("%s: fast parser took it: %v, want %v", name, took, c.fast)
		}
	}
}

// TestBlockYAMLSigmaHQ holds the fast parser to the library on every
// SigmaHQ rule file, and to the same rules and problems through ParseSet;
// it also says how many files it leaves to the library.
func TestBlockYAMLSigmaHQ(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "sigma")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SigmaHQ rules not found at %s: %v", dir, err)
	}
	files, fast := 0, 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if checkSameAsLibrary(t, path, data) {
			fast++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d files read by the fast parser", fast, files)
	if files > 1000 && fast < files*95/100 {
		t.Errorf("only %d of %d files read by the fast parser", fast, files)
	}
}

// TestParseSetSameWithoutFastPath: the rules and errors ParseSet gives are
// those of the library's nodes, on the cases above.
func TestParseSetSameWithoutFastPath(t *testing.T) {
	for name, c := range blockYAMLCases {
		data := []byte(c.text)
		got, gerrs := (*Options)(nil).ParseSet("x.yml", data)
		want := &Set{}
		var werrs []error
		lib, err := libraryDocs(data)
		if err != nil {
			continue // the fast parser leaves it: the library's error is ParseSet's
		}
		for _, root := range lib {
			werrs = (*Options)(nil).parseDoc("x.yml", root, want, werrs)
		}
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gerrs) != fmt.Sprint(werrs) {
			t.Errorf("%s: ParseSet differs from the library's nodes: %v / %v", name, gerrs, werrs)
		}
	}
}

// TestParseSetKeepsNoNode: ParseSet hands its parser's node slabs to the
// next parse; the rules of one text must not change when other texts are
// parsed after it (no rule may hold a node, or a string cut from a slab).
func TestParseSetKeepsNoNode(t *testing.T) {
	type parsed struct {
		name string
		data []byte
		set  *Set
		errs string
	}
	var all []parsed
	for name, c := range blockYAMLCases {
		data := []byte(c.text)
		// Each text twice, the second time after all the others: a slab
		// used by one is reused by the next.
		all = append(all, parsed{name: name, data: data})
	}
	all = append(all, all...)
	for i := range all {
		s, errs := (*Options)(nil).ParseSet("x.yml", all[i].data)
		all[i].set, all[i].errs = s, fmt.Sprint(errs)
	}
	for _, p := range all {
		lib, err := libraryDocs(p.data)
		if err != nil {
			continue
		}
		want := &Set{}
		var werrs []error
		for _, root := range lib {
			werrs = (*Options)(nil).parseDoc("x.yml", root, want, werrs)
		}
		if !reflect.DeepEqual(p.set, want) || p.errs != fmt.Sprint(werrs) {
			t.Errorf("%s: rules changed after later parses: %v / %v", p.name, p.errs, werrs)
		}
	}
}

func FuzzBlockYAML(f *testing.F) {
	for _, c := range blockYAMLCases {
		f.Add([]byte(c.text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameAsLibrary(t, "input", data)
	})
}

// BenchmarkParseSigmaHQ parses every SigmaHQ rule file's text (read
// beforehand) as a start without the rule cache does (ParseSet), and
// into YAML nodes alone with the fast parser and with the YAML library.
// Run with -cpu=1.
func BenchmarkParseSigmaHQ(b *testing.B) {
	dir := filepath.Join("..", "..", "shared", "data", "sigma")
	var texts [][]byte
	var names []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".yml" {
			if data, err := os.ReadFile(path); err == nil {
				texts, names = append(texts, data), append(names, path)
			}
		}
		return nil
	})
	if len(texts) == 0 {
		b.Skipf("SigmaHQ rules not found at %s", dir)
	}
	b.Run("ParseSet", func(b *testing.B) {
		for b.Loop() {
			for i, data := range texts {
				(*Options)(nil).ParseSet(names[i], data)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/all-files")
	})
	b.Run("fast-nodes", func(b *testing.B) {
		for b.Loop() {
			for _, data := range texts {
				p := parsers.Get().(*blockParser)
				p.parse(data)
				p.release()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/all-files")
	})
	b.Run("library-nodes", func(b *testing.B) {
		for b.Loop() {
			for _, data := range texts {
				libraryDocs(data)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/all-files")
	})
}
