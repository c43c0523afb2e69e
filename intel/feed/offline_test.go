package feed

import (
	"compress/gzip"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "drop.txt")
	os.WriteFile(plain, []byte("203.0.113.0/24\nbogus\n"), 0o600)
	gz := filepath.Join(dir, "more.txt.gz")
	f, _ := os.Create(gz)
	zw := gzip.NewWriter(f)
	zw.Write([]byte("198.51.100.1\n"))
	zw.Close()
	f.Close()
	formats := formatsWith()
	formats.AddParser("plain", lineParser{})
	set := &intel.Set{}
	var probs []string
	n, err := LoadFiles(formats, set, []string{plain, "lines:" + gz}, 0, func(file string, p intel.Problem) {
		probs = append(probs, filepath.Base(file)+": "+p.Where)
	})
	if err != nil || n != 2 {
		t.Fatalf("LoadFiles = %d, %v", n, err)
	}
	if strings.Join(probs, ",") != "drop.txt: line 2" {
		t.Errorf("problems %v", probs)
	}
	hits := set.MatchIP(netip.MustParseAddr("203.0.113.50"), time.Now(), nil)
	if len(hits) != 1 || hits[0].Feed != "drop.txt" {
		t.Errorf("hits %+v", hits)
	}
	if hits := set.MatchIP(netip.MustParseAddr("198.51.100.1"), time.Now(), nil); len(hits) != 1 {
		t.Errorf("the gzip file's indicator: %+v", hits)
	}
	if _, err := LoadFiles(formats, set, []string{filepath.Join(dir, "nope.txt")}, 0, func(string, intel.Problem) {}); err == nil || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("missing file: %v", err)
	}
	bundle := filepath.Join(dir, "b.json")
	os.WriteFile(bundle, []byte(`{"type": "bundle", "objects": []}`), 0o600)
	if _, err := LoadFiles(formats, set, []string{bundle}, 0, func(string, intel.Problem) {}); err == nil || !strings.Contains(err.Error(), `"stix"`) {
		t.Errorf("a format this build lacks: %v", err)
	}
}

func TestGuess(t *testing.T) {
	for _, c := range []struct{ path, head, want string }{
		{"x.json", `{"type": "bundle", "id": "bundle--1"}`, "stix"},
		{"e.json", `{"Event": {"uuid": "…"}}`, "misp-event"},
		{"i.jsonl", `{"kind":"ip"}`, "jsonl"},
		{"ipblocklist.csv", "# comment\nfirst_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n", "feodo"},
		{"list.csv", "ip,comment\n", "csv"},
		{"drop.txt.gz", "; Spamhaus DROP\n1.2.3.0/24 ; SBL1\n", "plain"},
	} {
		if got := Guess(c.path, []byte(c.head)); got != c.want {
			t.Errorf("Guess(%s) = %s, want %s", c.path, got, c.want)
		}
	}
}
