package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/teststore"
)

// The end-to-end tests run the real binary, built once here.
var vigilBin string

// afterTests run once all tests have: they stop what several tests share
// (the browser tests' demo).
var afterTests []func()

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	// Go's build cache defaults to a folder under XDG_CACHE_HOME: keep the
	// user's, or the build below starts from nothing (minutes).
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	// scan's rule cache goes to the test's directory, not the user's.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	// With VIGIL_TEST_STORE=postgres every server and command the tests
	// start keeps its data dir's store in a PostgreSQL schema of that data
	// dir's own (e2eStore).
	if teststore.Kind() == teststore.Postgres {
		os.Setenv("VIGIL_STORE", teststore.Postgres)
		os.Setenv("VIGIL_STORE_URL", teststore.URL())
		os.Setenv(teststore.EnvSchemaPrefix, e2eSchemaPrefix)
	}
	build := exec.Command("go", "build", "-tags", e2eTags(), "-o", vigilBin, ".")
	if c := strings.TrimSpace(string(gocache)); c != "" {
		build.Env = append(os.Environ(), "GOCACHE="+c)
	}
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building vigil: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	for _, f := range afterTests {
		f()
	}
	if teststore.Kind() == teststore.Postgres {
		if err := teststore.DropSchemas(context.Background(), e2eSchemaPrefix); err != nil {
			fmt.Fprintf(os.Stderr, "dropping the tests' schemas: %v\n", err)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// e2eSchemaPrefix begins the schemas of the data dirs of this test
// process's servers (VIGIL_TEST_STORE=postgres).
var e2eSchemaPrefix = teststore.SchemaPrefix() + "e2e_"

// In the tests' own process too (servers and configs made in process),
// a PostgreSQL store without a schema setting takes its data dir's.
func init() {
	testStoreSchema = func(c *Config) {
		if p := os.Getenv(teststore.EnvSchemaPrefix); p != "" && c.StoreSchema == "" {
			c.StoreSchema = teststore.SchemaFor(p, c.DataDir)
		}
	}
}

// e2eTags are the build tags of the binaries the tests run: extra, and
// teststore when the suite runs on PostgreSQL (storeschema_teststore.go).
func e2eTags(extra ...string) string {
	if teststore.Kind() == teststore.Postgres {
		extra = append(extra, "teststore")
	}
	return strings.Join(extra, ",")
}

// openDataStore opens the store of a data dir the tests' servers and
// commands use: its vigil.db, or with VIGIL_TEST_STORE=postgres its
// schema. A store that lacks some of backend fails the test naming what.
func openDataStore(t *testing.T, dataDir string) backend {
	t.Helper()
	db := openDataStoreNow(t, dataDir)
	t.Cleanup(func() { db.Close() })
	return db
}

// openDataStoreNow is openDataStore for a caller that closes the store
// itself, soon (a poll opens it again and again).
func openDataStoreNow(t *testing.T, dataDir string) backend {
	t.Helper()
	cfg := &Config{Store: storeSQLite, DataDir: dataDir, Compression: "zstd"}
	if teststore.Kind() == teststore.Postgres {
		cfg = &Config{Store: storePostgres, DataDir: dataDir, storeURL: teststore.URL(), StoreMaxConns: 4,
			StoreSchema: teststore.SchemaFor(e2eSchemaPrefix, dataDir)}
	}
	db, err := openBackend(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("store of data dir %s (%s=%s): %v", dataDir, teststore.EnvStore, teststore.Kind(), err)
	}
	return db
}

// syncBuffer collects a process's output safely across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `vigil serve` on a free port of the data dir and waits
// until /readyz answers 200.
func startServe(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	return startServeEnv(t, nil, dataDir, args...)
}

// startServeEnv is startServe with the environment env (nil: the tests').
func startServeEnv(t *testing.T, env []string, dataDir string, args ...string) *proc {
	t.Helper()
	addr := freePort(t)
	all := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn"}, args...)
	p := &proc{t: t, cmd: exec.Command(vigilBin, all...), url: "http://" + addr, stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("vigil serve exited: %v\n%s", err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve not ready after 60s\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL: no draining, no flushing.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the server with SIGTERM and checks it exits cleanly.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("vigil serve exited with %v after SIGTERM\n%s", err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		p.t.Errorf("vigil serve did not stop within 60s of SIGTERM")
		p.kill()
	}
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(vigilBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newKey creates the workspace (if needed) and a key of scope in it.
func newKey(t *testing.T, dataDir, ws, scope string) (secret, id string) {
	t.Helper()
	out, err := exec.Command(vigilBin, "workspaces", "create", ws, "--data-dir", dataDir).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "exists") {
		t.Fatalf("workspaces create %s: %v\n%s", ws, err, out)
	}
	var k struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(runCLI(t, "keys", "create", "--workspace", ws, "--scope", scope, "--json", "--data-dir", dataDir)), &k); err != nil {
		t.Fatal(err)
	}
	return k.Secret, k.ID
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("reply %d is not JSON: %v\n%s", r.status, err, r.body)
	}
}

func do(t *testing.T, method, url, key, ctype string, body io.Reader, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func ingestBody(t *testing.T, base, key, source, format, ctype string, body []byte) reply {
	t.Helper()
	return do(t, "POST", fmt.Sprintf("%s/api/v1/ingest?source=%s&format=%s", base, source, format), key, ctype, bytes.NewReader(body))
}

// poll calls f until it reports true or the generous deadline passes.
func poll(t *testing.T, what string, f func() bool) {
	t.Helper()
	pollFor(t, what, 60*time.Second, f)
}

// pollFor is poll with its own deadline.
func pollFor(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type apiAlert struct {
	ID   string `json:"id"`
	Rule struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"rule"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Entities []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"entities"`
	Tactics   []string  `json:"tactics"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	Evidence  []struct {
		EventID string `json:"event_id"`
		File    string `json:"file"`
		Line    int    `json:"line"`
	} `json:"evidence"`
}

// getJSON GETs url with key and reads its JSON answer into out; any status
// but 200 fails the test.
func getJSON(t *testing.T, url, key string, out any) {
	t.Helper()
	r := do(t, "GET", url, key, "", nil)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", url, r.status, r.body)
	}
	r.json(t, out)
}

func listAlerts(t *testing.T, base, key string) []apiAlert {
	t.Helper()
	var out struct {
		Alerts []apiAlert `json:"alerts"`
	}
	getJSON(t, base+"/api/v1/alerts?limit=1000", key, &out)
	return out.Alerts
}

type apiSource struct {
	Name     string `json:"name"`
	Format   string `json:"format"`
	Events   int64  `json:"events"`
	Rejected int64  `json:"rejected"`
}

func listSources(t *testing.T, base, key string) []apiSource {
	t.Helper()
	var out struct {
		Sources []apiSource `json:"sources"`
	}
	getJSON(t, base+"/api/v1/sources", key, &out)
	return out.Sources
}

func storedEvents(t *testing.T, base, key string) int64 {
	var n int64
	for _, s := range listSources(t, base, key) {
		n += s.Events
	}
	return n
}

// allEventIDs pages through the events API.
func allEventIDs(t *testing.T, base, key string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		var out struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
			Next string `json:"next"`
		}
		getJSON(t, base+"/api/v1/events?limit=1000&cursor="+cursor, key, &out)
		for _, e := range out.Events {
			ids = append(ids, e.ID)
		}
		if out.Next == "" {
			return ids
		}
		cursor = out.Next
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not present (%v): skipping", rel, err)
	}
	return p
}

// sqliteOnly skips a test of what only the SQLite store does, saying why,
// when the suite runs on PostgreSQL (VIGIL_TEST_STORE).
func sqliteOnly(t *testing.T, why string) {
	t.Helper()
	if teststore.Kind() != teststore.SQLite {
		t.Skipf("SQLite only (%s=%s): %s", teststore.EnvStore, teststore.Kind(), why)
	}
}
