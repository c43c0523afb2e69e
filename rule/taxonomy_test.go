package rule

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

func TestDefaultTaxonomy(t *testing.T) {
	tax := DefaultTaxonomy()
	alts := tax.Expand(event.Logsource{Product: "Windows", Category: "registry_event"})
	for _, c := range []string{"registry_event", "registry_add", "registry_delete", "registry_set", "registry_rename"} {
		if !slices.Contains(alts, event.Logsource{Product: "windows", Category: c}) {
			t.Errorf("registry_event does not receive %s: %v", c, alts)
		}
	}
	// A mapping keeps the parts of the rule it does not name.
	alts = tax.Expand(event.Logsource{Product: "linux", Service: "sshd", Category: "x"})
	if !slices.Contains(alts, event.Logsource{Product: "linux", Service: "auth", Category: "x"}) {
		t.Errorf("sshd alternatives %v", alts)
	}
	// Unmapped logsources only receive themselves.
	if alts := tax.Expand(event.Logsource{Product: "windows", Category: "process_creation"}); len(alts) != 1 {
		t.Errorf("process_creation: %v", alts)
	}
}

func TestParseTaxonomy(t *testing.T) {
	custom := "logsources:\n  - rule: {product: acme, service: fw}\n    events:\n      - {product: acme, service: firewall}\n"
	tax, err := ParseTaxonomy("t.yml", []byte(custom))
	if err != nil {
		t.Fatal(err)
	}
	if len(tax.Mappings) != len(DefaultTaxonomy().Mappings)+1 {
		t.Errorf("custom mappings are not added to the default: %d", len(tax.Mappings))
	}
	if alts := tax.Expand(event.Logsource{Product: "acme", Service: "fw"}); len(alts) != 2 || alts[1].Service != "firewall" {
		t.Errorf("custom: %v", alts)
	}
	tax, err = ParseTaxonomy("t.yml", []byte("replace-default: true\n"+custom))
	if err != nil || len(tax.Mappings) != 1 {
		t.Errorf("replace-default: %v %v", tax, err)
	}
	for _, c := range []struct{ src, want string }{
		{"logsources:\n  - rule: {product: a}\n", "t.yml:2:5: a logsource mapping needs rule and events"},
		{"logsources:\n  - rule: {produkt: a}\n    events: [{product: b}]\n", "t.yml:2:12: unknown logsource part \"produkt\""},
		{"logsource: []\n", "t.yml:1:1: unknown taxonomy key"},
		{"logsources:\n  - rule: {}\n    events: [{product: b}]\n", "must name a product"},
		{"logsources: [\n", "t.yml:"},
	} {
		_, err := ParseTaxonomy("t.yml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.src, err, c.want)
		}
	}
}

func FuzzParseTaxonomy(f *testing.F) {
	f.Add(DefaultTaxonomyYAML())
	f.Add([]byte("replace-default: yes\nlogsources:\n  - rule: &a {product: x}\n    events: [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tax, err := ParseTaxonomy("f.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		for _, m := range tax.Mappings {
			if m.Rule == (event.Logsource{}) || len(m.Events) == 0 {
				t.Fatalf("incomplete mapping %+v", m)
			}
			tax.Expand(m.Rule)
		}
	})
}
