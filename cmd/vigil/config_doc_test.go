package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// fileOnlyKeys are the config file's keys that are not flags.
var fileOnlyKeys = map[string]bool{"workspaces": true, "sources": true, "placeholders": true, "feeds": true, "sensitivity": true}

// exampleKey is a top-level key of the example file, set ("name: v") or
// shown commented out ("# name: v").
var exampleKey = regexp.MustCompile(`^(?:# ?)?([a-z][a-z0-9-]*):(?:\s|$)`)

// TestExampleConfigHasEverySetting keeps docs/vigil.example.yaml complete:
// configuration.md promises that it shows every setting. Loading the file
// (TestExampleConfigLoads) only proves that the keys it has are known, not
// that none is missing; this checks both directions, counting a key shown
// commented out as present.
func TestExampleConfigHasEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "vigil.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		m := exampleKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if !known[m[1]] && !fileOnlyKeys[m[1]] {
			t.Errorf("vigil.example.yaml:%d: %q is not a setting", i+1, m[1])
		}
		seen[m[1]] = true
	}
	for _, name := range append(settingNames(), "workspaces", "sources", "placeholders", "feeds", "sensitivity") {
		if !seen[name] {
			t.Errorf("vigil.example.yaml lacks setting %q (set it or show it commented out)", name)
		}
	}
}

// TestConfigurationDocListsEverySetting ties docs/configuration.md's table
// to the flag set: each setting has a row and each row names settings.
func TestConfigurationDocListsEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]setting{}
	for _, s := range settings {
		known[s.name] = s
	}
	row := regexp.MustCompile("^\\| (`[^|]+`) \\| ([^|]*) \\|")
	name := regexp.MustCompile("`([a-z][a-z0-9-]*)`")
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, n := range name.FindAllStringSubmatch(m[1], -1) {
			s, ok := known[n[1]]
			if !ok {
				t.Errorf("configuration.md:%d: %q is not a setting", i+1, n[1])
				continue
			}
			seen[n[1]] = true
			def := strings.Trim(strings.TrimSpace(m[2]), "`")
			if want := s.def; want != def && !(want == "" && def == "—") {
				t.Errorf("configuration.md:%d: %s's default is %q, the flag's %q", i+1, n[1], def, want)
			}
		}
	}
	var missing []string
	for n := range known {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("configuration.md's table lacks %v", missing)
	}
}

// TestBusDocSettingsExist checks the "server setting" column of
// docs/bus.md's table: every setting it names is one that serve has.
func TestBusDocSettingsExist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "bus.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
	}
	name := regexp.MustCompile("`<?([a-z][a-z0-9-]*)")
	col, rows := -1, 0
	for i, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "|") {
			col = -1
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if col < 0 {
			for j, c := range cells {
				if strings.TrimSpace(c) == "server setting" {
					col = j
				}
			}
			continue
		}
		if col >= len(cells) || strings.HasPrefix(strings.TrimSpace(cells[col]), "---") {
			continue
		}
		rows++
		for _, m := range name.FindAllStringSubmatch(cells[col], -1) {
			if !known[m[1]] {
				t.Errorf("bus.md:%d: server setting %q does not exist (in %q)", i+1, m[1], strings.TrimSpace(cells[col]))
			}
		}
	}
	if rows == 0 {
		t.Fatal(`bus.md has no table with a "server setting" column`)
	}
}
