package suppress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/alert"
)

// fileEntry is one suppression as a suppressions file writes it.
type fileEntry struct {
	ID     string `yaml:"id"`
	Rule   string `yaml:"rule"`
	Entity *struct {
		Type  string `yaml:"type"`
		Value string `yaml:"value"`
	} `yaml:"entity"`
	Field   string `yaml:"field"`
	Value   string `yaml:"value"`
	CIDR    string `yaml:"cidr"`
	Reason  string `yaml:"reason"`
	Author  string `yaml:"author"`
	Expires string `yaml:"expires"`
}

type fileDoc struct {
	Suppressions []fileEntry `yaml:"suppressions"`
}

// Load reads a suppressions file (YAML, `vigil scan --suppress`): a
// `suppressions:` list of entries with the keys rule, entity (type,
// value), field, value, cidr, reason, author, expires (RFC 3339 or a
// date) and an optional id (default: the entry's position, "file#1").
// Every entry must validate: a file with a bad entry is refused whole,
// naming the entry.
func Load(path string, now time.Time) ([]Suppression, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suppressions file: %w", err)
	}
	list, err := Parse(b, path, now)
	if err != nil {
		return nil, fmt.Errorf("suppressions file %s: %w", path, err)
	}
	return list, nil
}

// Parse reads a suppressions document; name prefixes the default ids.
func Parse(b []byte, name string, now time.Time) ([]Suppression, error) {
	var doc fileDoc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	out := make([]Suppression, 0, len(doc.Suppressions))
	for i, e := range doc.Suppressions {
		s := Suppression{ID: e.ID, Rule: e.Rule, Field: e.Field, Value: e.Value, CIDR: e.CIDR,
			Reason: e.Reason, Author: e.Author, Created: now, Updated: now}
		if s.ID == "" {
			s.ID = name + "#" + strconv.Itoa(i+1)
		}
		if e.Entity != nil {
			s.Entity = &alert.Entity{Type: e.Entity.Type, Value: e.Entity.Value}
		}
		if e.Expires != "" {
			t, err := parseTime(e.Expires)
			if err != nil {
				return nil, fmt.Errorf("suppression %d (%s): expires %q: %w", i+1, s.ID, e.Expires, err)
			}
			s.Expires = &t
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("suppression %d (%s): %w", i+1, s.ID, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseTime reads RFC 3339 or a date (midnight UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2026-12-31T00:00:00Z) or a date (2026-12-31)")
	}
	return t, nil
}
