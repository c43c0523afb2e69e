package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ruleDoc(id, title, status, level string) string {
	return fmt.Sprintf(`title: %s
id: %s
name: %s
status: %s
level: %s
logsource:
    product: linux
    service: auth
detection:
    sel:
        message|contains: %s
    condition: sel
`, title, id, strings.ReplaceAll(title, " ", "_"), status, level, title)
}

const corrDoc = `title: many stable
id: 5d1c0000-0000-4000-8000-00000000c0c0
correlation:
    type: event_count
    rules:
        - stable_high
    group-by:
        - host.name
    timespan: 5m
    condition:
        gte: 3
level: high
`

// packFiles is a small pack: rules of each status and level, a
// correlation on one of them, a tests file, a broken file and things that
// are not rules.
func packFiles() map[string]string {
	return map[string]string{
		"rules/linux/stable_high.yml":       ruleDoc("11111111-0000-4000-8000-000000000001", "stable high", "stable", "high"),
		"rules/linux/stable_high.tests.yml": "tests:\n  - name: t\n    match: true\n    event: {message: stable high}\n",
		"rules/linux/test_low.yml":          ruleDoc("11111111-0000-4000-8000-000000000002", "test low", "test", "low"),
		"rules/linux/exp_medium.yml":        ruleDoc("11111111-0000-4000-8000-000000000003", "exp medium", "experimental", "medium"),
		"rules/linux/deprecated_crit.yml":   ruleDoc("11111111-0000-4000-8000-000000000004", "deprecated crit", "deprecated", "critical"),
		"rules/linux/corr.yml":              corrDoc,
		"rules/linux/broken.yml":            "title: [unclosed\n",
		"README.md":                         "# not a rule\n",
		"LICENSE":                           "licence text\n",
	}
}

func zipOf(t *testing.T, files map[string]string, extra func(*zip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if extra != nil {
		extra(zw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tgzOf(t *testing.T, files map[string]string, extra func(*tar.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	if extra != nil {
		extra(tw)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func read(t *testing.T, data []byte, name string) *Source {
	t.Helper()
	src, err := ReadArchive(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		t.Fatalf("ReadArchive(%s): %v", name, err)
	}
	return src
}

func newStore(t *testing.T) *Store {
	t.Helper()
	clock := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	return &Store{Root: filepath.Join(t.TempDir(), "rulepacks"), Now: func() time.Time {
		clock = clock.Add(time.Minute)
		return clock
	}}
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Kind+":"+e.Title)
	}
	return out
}

func TestInstallSelectsByStatusAndLevel(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"pack.zip", func(t *testing.T) []byte { return zipOf(t, packFiles(), nil) }},
		{"pack.tar.gz", func(t *testing.T) []byte { return tgzOf(t, packFiles(), nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			src := read(t, tc.data(t), tc.name)
			if src.Skipped != 2 {
				t.Errorf("skipped %d entries, want 2 (README.md, LICENSE)", src.Skipped)
			}
			m, d, err := s.Install("sigma", tc.name, src, Selection{Status: []string{"stable", "test"}, MinLevel: "medium"})
			if err != nil {
				t.Fatal(err)
			}
			// stable high is kept; test low is below medium; experimental
			// and deprecated are not selected statuses; the correlation
			// refers to a kept rule.
			got := strings.Join(ids(m.Entries), ",")
			if got != "correlation:many stable,rule:stable high" {
				t.Errorf("entries = %s", got)
			}
			if m.Deselected != 3 {
				t.Errorf("deselected = %d, want 3", m.Deselected)
			}
			if len(m.Problems) != 1 || m.Problems[0].File != "rules/linux/broken.yml" {
				t.Errorf("problems = %+v, want broken.yml", m.Problems)
			}
			if len(d.Added) != 2 || len(d.Removed)+len(d.Changed) != 0 {
				t.Errorf("first install diff = %+v, want 2 added", d)
			}
			dirs, err := s.Dirs()
			if err != nil || len(dirs) != 1 {
				t.Fatalf("Dirs = %v, %v", dirs, err)
			}
			for _, f := range []string{"rules/linux/stable_high.yml", "rules/linux/stable_high.tests.yml", "rules/linux/corr.yml"} {
				if _, err := os.Stat(filepath.Join(dirs[0], f)); err != nil {
					t.Errorf("installed tree lacks %s: %v", f, err)
				}
			}
			for _, f := range []string{"rules/linux/test_low.yml", "rules/linux/broken.yml", "README.md"} {
				if _, err := os.Stat(filepath.Join(dirs[0], f)); err == nil {
					t.Errorf("installed tree has %s", f)
				}
			}
		})
	}
}

func TestCorrelationOfDeselectedRuleIsLeftOut(t *testing.T) {
	s := newStore(t)
	src := read(t, zipOf(t, packFiles(), nil), "p.zip")
	m, _, err := s.Install("p", "p.zip", src, Selection{MinLevel: "critical"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(m.Entries), ","); got != "rule:deprecated crit" {
		t.Errorf("entries = %s, want only the critical rule (the correlation's rule is high)", got)
	}
}

func TestReinstallDiffRollbackAndUnchanged(t *testing.T) {
	s := newStore(t)
	data1 := zipOf(t, packFiles(), nil)
	m1, _, err := s.Install("sigma", "v1.zip", read(t, data1, "v1.zip"), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Install("sigma", "v1.zip", read(t, data1, "v1.zip"), Selection{}); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("reinstalling the same bytes: err = %v, want ErrUnchanged", err)
	}
	if _, _, err := s.Install("sigma", "v1.zip", read(t, data1, "v1.zip"), Selection{MinLevel: "low"}); err != nil {
		t.Fatalf("the same source with another selection is a new version: %v", err)
	}
	if back, _, err := s.Rollback("sigma"); err != nil || back.Version != m1.Version {
		t.Fatalf("rollback of the new selection: %s, %v; want %s", back.Version, err, m1.Version)
	}
	v2 := packFiles()
	delete(v2, "rules/linux/test_low.yml")
	v2["rules/linux/exp_medium.yml"] = ruleDoc("11111111-0000-4000-8000-000000000003", "exp medium", "experimental", "high")
	v2["rules/linux/new.yml"] = ruleDoc("11111111-0000-4000-8000-000000000005", "new one", "stable", "low")
	data2 := tgzOf(t, v2, nil)
	m2, d, err := s.Install("sigma", "v2.tgz", read(t, data2, "v2.tgz"), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(d.Added), ","); got != "rule:new one" {
		t.Errorf("added = %s", got)
	}
	if got := strings.Join(ids(d.Removed), ","); got != "rule:test low" {
		t.Errorf("removed = %s", got)
	}
	if got := strings.Join(ids(d.Changed), ","); got != "rule:exp medium" {
		t.Errorf("changed = %s", got)
	}
	if _, _, err := s.Install("sigma", "v2.tgz", read(t, data2, "v2.tgz"), Selection{}); !errors.Is(err, ErrUnchanged) {
		t.Errorf("installing the current source again: err = %v, want ErrUnchanged", err)
	}
	back, bd, err := s.Rollback("sigma")
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != m1.Version {
		t.Errorf("rollback went to %s, want %s, the version before %s", back.Version, m1.Version, m2.Version)
	}
	if got := strings.Join(ids(bd.Added), ","); !strings.Contains(got, "rule:test low") {
		t.Errorf("rollback diff added = %s, want test low back", got)
	}
	dirs, _ := s.Dirs()
	if _, err := os.Stat(filepath.Join(dirs[0], "rules/linux/test_low.yml")); err != nil {
		t.Errorf("after rollback the current tree lacks test_low.yml: %v", err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Current.Version != back.Version || len(list[0].Versions) < 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
}

func TestRollbackWithoutEarlierVersion(t *testing.T) {
	s := newStore(t)
	if _, _, err := s.Rollback("sigma"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("rollback of nothing: %v, want ErrNotInstalled", err)
	}
	if _, _, err := s.Install("sigma", "a.zip", read(t, zipOf(t, packFiles(), nil), "a.zip"), Selection{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Rollback("sigma"); err == nil || !strings.Contains(err.Error(), "no version before") {
		t.Errorf("rollback of the first version: %v", err)
	}
}

func TestPruneKeepsCurrentAndRecent(t *testing.T) {
	s := newStore(t)
	for i := range Keep + 3 {
		files := packFiles()
		files[fmt.Sprintf("rules/linux/v%d.yml", i)] = ruleDoc(fmt.Sprintf("22222222-0000-4000-8000-%012d", i), fmt.Sprintf("v%d", i), "stable", "low")
		if _, _, err := s.Install("sigma", "x.zip", read(t, zipOf(t, files, nil), "x.zip"), Selection{}); err != nil {
			t.Fatal(err)
		}
	}
	vs, _ := s.versions("sigma")
	if len(vs) != Keep {
		t.Errorf("%d versions kept, want %d", len(vs), Keep)
	}
	cur, _ := s.current("sigma")
	if vs[len(vs)-1] != cur.Version {
		t.Errorf("newest kept %s is not current %s", vs[len(vs)-1], cur.Version)
	}
}

func TestRemove(t *testing.T) {
	s := newStore(t)
	if _, _, err := s.Install("sigma", "a.zip", read(t, zipOf(t, packFiles(), nil), "a.zip"), Selection{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("sigma"); err != nil {
		t.Fatal(err)
	}
	if dirs, _ := s.Dirs(); len(dirs) != 0 {
		t.Errorf("Dirs after remove = %v", dirs)
	}
	if err := s.Remove("sigma"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second remove: %v", err)
	}
}

func TestUnsafeEntriesAreSkipped(t *testing.T) {
	files := map[string]string{"rules/ok.yml": ruleDoc("33333333-0000-4000-8000-000000000001", "ok", "stable", "low")}
	zdata := zipOf(t, files, func(zw *zip.Writer) {
		for _, n := range []string{"../escape.yml", "/abs.yml", `..\win.yml`, "C:/drive.yml", ".hidden/x.yml", "rules/../../up.yml"} {
			w, _ := zw.Create(n)
			w.Write([]byte(ruleDoc("33333333-0000-4000-8000-000000000009", "bad", "stable", "low")))
		}
	})
	tdata := tgzOf(t, files, func(tw *tar.Writer) {
		tw.WriteHeader(&tar.Header{Name: "rules/link.yml", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink})
		tw.WriteHeader(&tar.Header{Name: "../../escape.yml", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
		tw.Write([]byte("x: 1"[:3]))
	})
	for name, data := range map[string][]byte{"z.zip": zdata, "t.tgz": tdata} {
		src := read(t, data, name)
		if len(src.Files) != 1 || src.Files[0].Path != "rules/ok.yml" {
			var got []string
			for _, f := range src.Files {
				got = append(got, f.Path)
			}
			t.Errorf("%s: files = %v, want only rules/ok.yml", name, got)
		}
	}
}

func TestBadSources(t *testing.T) {
	if _, err := ReadArchive(bytes.NewReader([]byte("hello")), 5, "notes.txt"); err == nil {
		t.Error("a text file read as a pack")
	}
	if _, err := ReadArchive(bytes.NewReader([]byte{0x1f, 0x8b, 1, 2}), 4, "x.tgz"); err == nil {
		t.Error("a broken gzip read as a pack")
	}
	s := newStore(t)
	for _, n := range []string{"", "Sigma", "../x", "a/b", strings.Repeat("a", 65)} {
		if _, _, err := s.Install(n, "x", &Source{}, Selection{}); err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
	if _, _, err := s.Install("x", "x", &Source{SHA256: strings.Repeat("0", 64)}, Selection{MinLevel: "severe"}); err == nil {
		t.Error("level severe accepted")
	}
	src := read(t, zipOf(t, packFiles(), nil), "p.zip")
	if _, _, err := s.Install("x", "p.zip", src, Selection{Status: []string{"unsupported"}}); err == nil || !strings.Contains(err.Error(), "no rule") {
		t.Errorf("a selection of nothing: %v", err)
	}
}

func TestDirectorySource(t *testing.T) {
	dir := t.TempDir()
	for p, body := range packFiles() {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(body), 0o644)
	}
	a, err := ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ReadFile(dir)
	if a.SHA256 != b.SHA256 || len(a.Files) != 7 {
		t.Errorf("directory source: sha %s/%s, %d files (want stable sha, 7 rule files)", a.SHA256, b.SHA256, len(a.Files))
	}
	os.WriteFile(filepath.Join(dir, "rules/linux/test_low.yml"), []byte(ruleDoc("11111111-0000-4000-8000-000000000002", "test low", "test", "high")), 0o644)
	c, _ := ReadFile(dir)
	if c.SHA256 == a.SHA256 {
		t.Error("an edited directory has the same SHA-256")
	}
}

// TestSigmaHQTree installs the SigmaHQ rules of ../shared as one pack:
// every file loads, and the selection by status and level keeps what the
// rules say.
func TestSigmaHQTree(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "data", "sigma")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SigmaHQ rules not here (%v): skipping", err)
	}
	src, err := ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	m, _, err := s.Install("sigma", root, src, Selection{Status: []string{"stable", "test"}, MinLevel: "high"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Problems {
		t.Errorf("problem: %s: %s", p.File, p.Reason)
	}
	for _, e := range m.Entries {
		if e.Kind == "rule" && (e.Status == "experimental" || e.Level == "medium" || e.Level == "low" || e.Level == "informational") {
			t.Errorf("%s (%s, %s) installed against the selection", e.File, e.Status, e.Level)
		}
	}
	if len(m.Entries) < 100 || m.Deselected < 1000 {
		t.Errorf("%d entries installed, %d deselected: the selection looks wrong", len(m.Entries), m.Deselected)
	}
	t.Logf("SigmaHQ: %d files read, %d installed (%d documents), %d rules deselected", len(src.Files), m.Files, len(m.Entries), m.Deselected)
}

// A second rollback goes on back through the installs, then stops.
func TestRollbackFollowsInstalls(t *testing.T) {
	s := newStore(t)
	var ms []Manifest
	for i := range 3 {
		files := packFiles()
		files["rules/linux/extra.yml"] = ruleDoc("66666666-0000-4000-8000-000000000001", fmt.Sprintf("extra %d", i), "stable", "low")
		m, _, err := s.Install("p", "x.zip", read(t, zipOf(t, files, nil), "x.zip"), Selection{})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for _, want := range []string{ms[1].Version, ms[0].Version} {
		if got, _, err := s.Rollback("p"); err != nil || got.Version != want {
			t.Fatalf("rollback: %s, %v; want %s", got.Version, err, want)
		}
	}
	if _, _, err := s.Rollback("p"); err == nil {
		t.Error("rolled back past the first install")
	}
}
