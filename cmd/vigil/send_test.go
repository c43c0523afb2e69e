package main

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/content"
)

type sendResult struct {
	code           int
	stdout, stderr string
}

// sendCLI runs `vigil send` with the key in VIGIL_KEY and stdin as its
// standard input.
func sendCLI(t *testing.T, key string, stdin []byte, args ...string) sendResult {
	t.Helper()
	cmd := exec.Command(vigilBin, append([]string{"send"}, args...)...)
	cmd.Env = append(os.Environ(), "VIGIL_KEY="+key)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	r := sendResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// busDrained waits until the server's bus holds no batch that the detect
// stage has not processed, so that counts are final.
func busDrained(t *testing.T, base string) {
	t.Helper()
	lag := regexp.MustCompile(`(?m)^vigil_bus_lag_batches (\S+)$`)
	poll(t, "the bus to drain", func() bool {
		r := do(t, "GET", base+"/metrics", "", "", nil)
		m := lag.FindSubmatch(r.body)
		return m != nil && string(m[1]) == "0"
	})
}

func sourceEvents(t *testing.T, base, key, name string) (events, rejected int64) {
	t.Helper()
	for _, s := range listSources(t, base, key) {
		if s.Name == name {
			return s.Events, s.Rejected
		}
	}
	return 0, 0
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSendEndToEnd sends NDJSON (gzip), a text log (stdin) and a CloudTrail
// file to a real server: bad records come back as file:line with exit 2,
// good ones are stored, and sending the same file again stores nothing
// twice.
func TestSendEndToEnd(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	ingestKey, _ := newKey(t, dir, "acme", "ingest")
	readKey, _ := newKey(t, dir, "acme", "read")

	win, err := content.Demo.ReadFile("demo/windows.windows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	good := bytes.Count(win, []byte("\n"))
	// Two bad lines and a blank one, at known places.
	lines := strings.Split(strings.TrimSuffix(string(win), "\n"), "\n")
	body := strings.Join(lines[:5], "\n") + "\nnot json at all\n\n" + strings.Join(lines[5:], "\n") + "\n{\"broken\": \n"
	badLine1, badLine2 := 6, len(lines)+3
	file := filepath.Join(dir, "dc01.jsonl.gz")
	os.WriteFile(file, gzipped(t, []byte(body)), 0o600)

	args := []string{"--server", srv.url, "--source", "dc01", "--format", "windows", "--batch-records", "7", file}
	r := sendCLI(t, ingestKey, nil, args...)
	if r.code != 2 {
		t.Fatalf("send with 2 bad records exited %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, l := range []int{badLine1, badLine2} {
		if !strings.Contains(r.stderr, fmt.Sprintf("%s:%d: invalid JSON", file, l)) {
			t.Errorf("stderr does not name %s:%d:\n%s", file, l, r.stderr)
		}
	}
	want := fmt.Sprintf("sent %d records from 1 file in %d requests: %d accepted, 2 rejected", good+2, (good+2+6)/7, good)
	if !strings.Contains(r.stdout, want) {
		t.Errorf("summary %q, want %q", r.stdout, want)
	}
	busDrained(t, srv.url)
	if ev, _ := sourceEvents(t, srv.url, readKey, "dc01"); ev != int64(good) {
		t.Fatalf("%d events stored, want %d", ev, good)
	}

	// The same file again: the same Idempotency-Keys, nothing stored twice.
	if r := sendCLI(t, ingestKey, nil, args...); r.code != 2 {
		t.Fatalf("second send exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	busDrained(t, srv.url)
	if ev, _ := sourceEvents(t, srv.url, readKey, "dc01"); ev != int64(good) {
		t.Errorf("after sending the file again, %d events stored, want %d", ev, good)
	}

	// A text log on stdin: all good, exit 0.
	sshd, _ := content.Demo.ReadFile("demo/bastion.sshd.log")
	r = sendCLI(t, ingestKey, sshd, "--server", srv.url, "--source", "bastion", "--format", "sshd", "-")
	if r.code != 0 {
		t.Fatalf("send of the sshd log exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n := bytes.Count(sshd, []byte("\n"))
	if !strings.Contains(r.stdout, fmt.Sprintf("%d accepted, 0 rejected", n)) {
		t.Errorf("sshd summary: %s", r.stdout)
	}

	// A CloudTrail file: one record an element; a bad element is named by
	// its line in the file.
	ct := []byte("{\"Records\": [\n {\"eventVersion\": \"1.08\", \"eventTime\": \"2026-11-26T11:00:12Z\", \"eventName\": \"ConsoleLogin\", \"eventSource\": \"signin.amazonaws.com\"},\n\n 42,\n {\"eventVersion\": \"1.08\", \"eventTime\": \"2026-11-26T11:00:13Z\", \"eventName\": \"StopLogging\", \"eventSource\": \"cloudtrail.amazonaws.com\"}\n]}\n")
	ctFile := filepath.Join(dir, "trail.json")
	os.WriteFile(ctFile, ct, 0o600)
	r = sendCLI(t, ingestKey, nil, "--server", srv.url, "--source", "trail", "--format", "cloudtrail", ctFile)
	if r.code != 2 || !strings.Contains(r.stderr, ctFile+":4: not a JSON object") || !strings.Contains(r.stdout, "2 accepted, 1 rejected") {
		t.Errorf("CloudTrail send: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Errors no retry fixes: exit 1, the server's reason and what to do.
	r = sendCLI(t, ingestKey, nil, "--server", srv.url, "--source", "nosuch", file)
	if r.code != 1 || !strings.Contains(r.stderr, "unknown source") || !strings.Contains(r.stderr, "format") {
		t.Errorf("unknown source: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = sendCLI(t, "vgl_wrong", nil, "--server", srv.url, "--source", "dc01", file)
	if r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "VIGIL_KEY") {
		t.Errorf("bad key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSendRetries puts a proxy in front of a real server that answers the
// first request 408 (its body came too slowly: ingest-body-timeout), the
// next 429 (Retry-After: 1), drops the third's connection, and forwards
// the fourth but loses its reply (503). send must retry the same
// batch with the same Idempotency-Key each time, and the server must store
// it once.
func TestSendRetries(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	ingestKey, _ := newKey(t, dir, "acme", "ingest")
	readKey, _ := newKey(t, dir, "acme", "read")
	target, _ := url.Parse(srv.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var keys []string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/ingest" {
			proxy.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestTimeout)
			io.WriteString(w, `{"title":"Request Timeout","status":408,"detail":"the request body was not sent in time"}`)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"too many bytes in flight"}`)
		case 3:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case 4:
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, r)
			if rec.Code != http.StatusAccepted {
				t.Errorf("the forwarded request got %d: %s", rec.Code, rec.Body)
			}
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"reply lost on the way"}`)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	defer front.Close()

	sshd, _ := content.Demo.ReadFile("demo/bastion.sshd.log")
	r := sendCLI(t, ingestKey, sshd, "--server", front.URL, "--source", "bastion", "--format", "sshd", "-")
	if r.code != 0 {
		t.Fatalf("send through the flaky proxy exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Go's transport itself replays a request with an Idempotency-Key
	// whose reused connection was closed before any answer, so the dropped
	// connection may not reach send as an error.
	if !strings.Contains(r.stderr, "408 Request Timeout") || !strings.Contains(r.stderr, "429 Too Many Requests") || !strings.Contains(r.stderr, "503") || strings.Count(r.stderr, "retrying") < 3 {
		t.Errorf("stderr does not tell of the retries:\n%s", r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 5 || keys[0] == "" || keys[1] != keys[0] || keys[2] != keys[0] || keys[3] != keys[0] || keys[4] != keys[0] {
		t.Errorf("Idempotency-Keys of the attempts: %q, want 5 of one", keys)
	}
	busDrained(t, srv.url)
	n := int64(bytes.Count(sshd, []byte("\n")))
	if ev, _ := sourceEvents(t, srv.url, readKey, "bastion"); ev != n {
		t.Errorf("%d events stored, want %d: a retry was stored twice or lost", ev, n)
	}
}

// TestSendTLS sends to an HTTPS server whose certificate a private CA
// signed: with --ca it works; without, the error says to give --ca.
func TestSendTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	srv := startServeTLS(t, dir, certFile, keyFile, pool)
	key, _ := newKey(t, dir, "acme", "ingest")
	sshd, _ := content.Demo.ReadFile("demo/bastion.sshd.log")
	r := sendCLI(t, key, sshd, "--server", srv, "--ca", certFile, "--source", "bastion", "--format", "sshd", "-")
	if r.code != 0 {
		t.Fatalf("send over TLS with --ca exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = sendCLI(t, key, sshd, "--server", srv, "--source", "bastion", "--format", "sshd", "--retries", "0", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "--ca") {
		t.Errorf("send over TLS without --ca: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// startServeTLS runs serve with a certificate and returns its https URL
// once it is ready.
func startServeTLS(t *testing.T, dir, certFile, keyFile string, pool *x509.CertPool) string {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(vigilBin, "serve", "--listen", addr, "--data-dir", dir, "--tls-cert", certFile, "--tls-key", keyFile, "--log-level", "warn")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	poll(t, "HTTPS readiness", func() bool {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return "https://" + addr
}
