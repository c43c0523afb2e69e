package payload

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// corporaDir is the shared labelled SQL injection corpora, relative to this
// package (the shared data folder sits beside the repository).
var corporaDir = filepath.Join("..", "..", "..", "shared", "data", "web", "sqli_corpora")

type corpusFile struct {
	name     string
	positive bool
	values   []string
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("corpus %s: %v", path, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func gunzip(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("corpus %s: %v", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("corpus %s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("corpus %s: %v", path, err)
	}
	return b
}

// loadCorpora reads every labelled SQL injection file and the benign sets
// as the corpora's README describes them.
func loadCorpora(t *testing.T) []corpusFile {
	if _, err := os.Stat(corporaDir); err != nil {
		t.Skipf("SQL injection corpora not present at %s (shared data folder absent): %v", corporaDir, err)
	}
	var files []corpusFile
	sqli, _ := filepath.Glob(filepath.Join(corporaDir, "libinjection", "positive_sqli", "*.txt"))
	sort.Strings(sqli)
	for _, p := range sqli {
		files = append(files, corpusFile{name: "libinjection/" + filepath.Base(p), positive: true, values: readLines(t, p)})
	}
	files = append(files, corpusFile{name: "libinjection/negative/false_positives_even.txt",
		values: readLines(t, filepath.Join(corporaDir, "libinjection", "negative", "false_positives_even.txt"))})
	for _, f := range []struct {
		name     string
		positive bool
	}{
		{"positive_sqli_sqlmap.json.gz", true},
		{"positive_sqli_kaggle.json.gz", true},
		{"negative_legit_openappsec_part6_dedup_hashA.json.gz", false},
	} {
		var vals []string
		if err := json.Unmarshal(gunzip(t, filepath.Join(corporaDir, "modsec_learn", f.name)), &vals); err != nil {
			t.Fatalf("corpus modsec_learn/%s: %v", f.name, err)
		}
		files = append(files, corpusFile{name: "modsec_learn/" + f.name, positive: f.positive, values: vals})
	}
	r := csv.NewReader(strings.NewReader(string(gunzip(t, filepath.Join(corporaDir, "httpparams", "payload_train.csv.gz")))))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("corpus httpparams/payload_train.csv.gz: %v", err)
	}
	byType := map[string][]string{}
	for i, row := range rows {
		if i == 0 || len(row) < 4 {
			continue
		}
		byType[row[2]] = append(byType[row[2]], row[0])
	}
	// CSIC values are stored decoded; encode them as they travel in a query
	// string would be wrong for `+` and `%`: inspect them as values.
	files = append(files,
		corpusFile{name: "httpparams/payload_train.csv (sqli)", positive: true, values: byType["sqli"]},
		corpusFile{name: "httpparams/payload_train.csv (norm)", values: byType["norm"]})
	return files
}

// libinjectionAlone is the baseline: the same decoding and splitting, then
// libinjection only.
func libinjectionAlone(s string) bool {
	return Inputs(s, func(v string) bool { ok, _ := libinjection.IsSQLi(v); return ok })
}

// TestSQLiCorpora prints, per file, the share of attacks found and of
// benign inputs flagged by vigil's SQL injection check and by libinjection
// alone, and holds vigil to the targets: ≥ 97% of all attacks, ≤ 0.5% of
// benign inputs, and at least libinjection's detection.
func TestSQLiCorpora(t *testing.T) {
	files := loadCorpora(t)
	var posN, posV, posL, negN, negV, negL int
	var b strings.Builder
	fmt.Fprintf(&b, "%-62s %7s %8s %8s\n", "file", "inputs", "vigil", "libinj")
	for _, f := range files {
		var v, l int
		for _, s := range f.values {
			if Detect(SQL, s) {
				v++
			}
			if libinjectionAlone(s) {
				l++
			}
		}
		what := "detected"
		if !f.positive {
			what = "flagged"
		}
		n := len(f.values)
		fmt.Fprintf(&b, "%-62s %7d %7.2f%% %7.2f%%  (%s)\n", f.name, n, pct(v, n), pct(l, n), what)
		if f.positive {
			posN, posV, posL = posN+n, posV+v, posL+l
		} else {
			negN, negV, negL = negN+n, negV+v, negL+l
		}
	}
	fmt.Fprintf(&b, "%-62s %7d %7.2f%% %7.2f%%\n", "ALL attacks (detected)", posN, pct(posV, posN), pct(posL, posN))
	fmt.Fprintf(&b, "%-62s %7d %7.2f%% %7.2f%%\n", "ALL benign (flagged)", negN, pct(negV, negN), pct(negL, negN))
	t.Log("\n" + b.String())
	if pct(posV, posN) < 97 {
		t.Errorf("vigil detects %.2f%% of the attacks, want ≥ 97%%", pct(posV, posN))
	}
	if pct(negV, negN) > 0.5 {
		t.Errorf("vigil flags %.2f%% of the benign inputs, want ≤ 0.5%%", pct(negV, negN))
	}
	if posV < posL {
		t.Errorf("vigil detects %d attacks, libinjection alone %d", posV, posL)
	}
}

func pct(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(a) / float64(n)
}

// TestOtherPayloadCorpora reports the XSS, command injection and path
// traversal checks on the labelled sets that hold them (libinjection's XSS
// files, the HTTP parameter set's xss, cmdi and path-traversal rows) and
// how often each flags the benign parameter values. The sets are small
// and one-sided, so only a floor is enforced.
func TestOtherPayloadCorpora(t *testing.T) {
	if _, err := os.Stat(corporaDir); err != nil {
		t.Skipf("SQL injection corpora not present at %s (shared data folder absent): %v", corporaDir, err)
	}
	r := csv.NewReader(strings.NewReader(string(gunzip(t, filepath.Join(corporaDir, "httpparams", "payload_train.csv.gz")))))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("corpus httpparams/payload_train.csv.gz: %v", err)
	}
	byType := map[string][]string{}
	for i, row := range rows {
		if i > 0 && len(row) >= 4 {
			byType[row[2]] = append(byType[row[2]], row[0])
		}
	}
	var xssLines []string
	xss, _ := filepath.Glob(filepath.Join(corporaDir, "libinjection", "positive_xss", "*.txt"))
	for _, p := range xss {
		xssLines = append(xssLines, readLines(t, p)...)
	}
	rate := func(k Kind, vals []string) float64 {
		n := 0
		for _, v := range vals {
			if Detect(k, v) {
				n++
			}
		}
		return pct(n, len(vals))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-40s %7s %9s %14s\n", "check", "attack set", "inputs", "detected", "benign flagged")
	for _, c := range []struct {
		k    Kind
		name string
		vals []string
	}{
		{XSS, "libinjection/positive_xss/*.txt", xssLines},
		{XSS, "httpparams (xss)", byType["xss"]},
		{Command, "httpparams (cmdi)", byType["cmdi"]},
		{Traversal, "httpparams (path-traversal)", byType["path-traversal"]},
	} {
		d, fp := rate(c.k, c.vals), rate(c.k, byType["norm"])
		fmt.Fprintf(&b, "%-10s %-40s %7d %8.2f%% %13.2f%%\n", c.k, c.name, len(c.vals), d, fp)
		if d < 50 || fp > 0.5 {
			t.Errorf("%v on %s: %.2f%% detected, %.2f%% of benign values flagged", c.k, c.name, d, fp)
		}
	}
	t.Log("\n" + b.String())
}
