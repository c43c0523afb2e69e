package syslog

import (
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/testcert"
)

func runLogger(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("logger"); err != nil {
		t.Skip("logger (util-linux) is not installed")
	}
	out, err := exec.Command("logger", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("logger %v: %v: %s", args, err, out)
	}
}

func TestLoggerTCPOctetCounting5424(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP}, pub)
	runLogger(t, "--server", "127.0.0.1", "--port", port(r), "--tcp", "--rfc5424", "--octet-count",
		"-t", "sshd", "--id=4242", "-p", "auth.info", "Accepted password for root from 10.0.0.9 port 2222 ssh2")
	recs := pub.waitFor(t, 1)
	if len(recs) != 1 {
		t.Fatalf("records %q, want one", recs)
	}
	got := recs[0]
	if !strings.HasPrefix(got, "<38>1 ") || !strings.Contains(got, " sshd 4242 ") ||
		!strings.HasSuffix(got, "Accepted password for root from 10.0.0.9 port 2222 ssh2") {
		t.Errorf("record %q: want the RFC 5424 line as sent (priority 38 = auth.info, app sshd, pid 4242)", got)
	}
}

func TestLoggerTCPNewline3164(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP}, pub)
	runLogger(t, "--server", "127.0.0.1", "--port", port(r), "--tcp", "--rfc3164", "-t", "cron", "one")
	runLogger(t, "--server", "127.0.0.1", "--port", port(r), "--tcp", "--rfc3164", "-t", "cron", "two")
	recs := pub.waitFor(t, 2)
	for i, want := range []string{"cron: one", "cron: two"} {
		if !strings.HasPrefix(recs[i], "<13>") || !strings.HasSuffix(recs[i], want) || strings.ContainsAny(recs[i], "\r\n") {
			t.Errorf("record %d = %q, want an RFC 3164 line ending in %q without its newline", i, recs[i], want)
		}
	}
}

func TestLoggerUDP(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: UDP}, pub)
	for _, proto := range []string{"--rfc5424", "--rfc3164"} {
		runLogger(t, "--server", "127.0.0.1", "--port", port(r), "--udp", proto, "-t", "app", "via "+proto)
	}
	recs := pub.waitFor(t, 2)
	if !strings.HasSuffix(recs[0], "via --rfc5424") || !strings.HasPrefix(recs[0], "<13>1 ") {
		t.Errorf("record 0 = %q", recs[0])
	}
	if !strings.HasSuffix(recs[1], "app: via --rfc3164") {
		t.Errorf("record 1 = %q", recs[1])
	}
	if got := r.Counters().Value("records"); got != 2 {
		t.Errorf("records metric = %v, want 2", got)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := testcert.New(t)
	pub := &fakePub{}
	r := start(t, Config{Protocol: TLS, TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, pub)
	c, err := tls.Dial("tcp", r.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{"<34>1 2026-11-27T10:00:00Z host su - ID47 - 'su root' failed", "<13>Nov 27 10:00:01 host app: plain"}
	fmt.Fprintf(c, "%d %s", len(msgs[0]), msgs[0])
	fmt.Fprintf(c, "%s\n", msgs[1])
	c.Close()
	recs := pub.waitFor(t, 2)
	if recs[0] != msgs[0] || recs[1] != msgs[1] {
		t.Errorf("records %q, want %q", recs, msgs)
	}

	// A plain TCP client on the TLS port is refused, counted, and does not
	// disturb the listener.
	pc, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(pc, "<13>not tls\n")
	pc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for r.Counters().Value("rejected:tls_handshake") < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := r.Counters().Value("rejected:tls_handshake"); got != 1 {
		t.Errorf("tls_handshake rejections = %v, want 1", got)
	}
}

// A message split across TCP segments, at awkward points (inside the octet
// count, inside the message), is reassembled.
func TestTCPSplitAcrossReads(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP}, pub)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetNoDelay(true)
	m1 := "<13>1 2026-11-27T10:00:00Z h app - - - first message, counted"
	m2 := "<13>Nov 27 10:00:01 h app: second, newline framed"
	stream := fmt.Sprintf("%d %s%s\n", len(m1), m1, m2)
	pieces := []string{stream[:1], stream[1:4], stream[4:30], stream[30 : len(stream)-5], stream[len(stream)-5:]}
	for _, p := range pieces {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // each piece its own read
	}
	recs := pub.waitFor(t, 2)
	if recs[0] != m1 || recs[1] != m2 {
		t.Errorf("records %q, want %q and %q", recs, m1, m2)
	}
}

// Octet counts that lie: each is refused with a reason, and the good
// messages around it are kept.
func TestTCPLyingOctetCounts(t *testing.T) {
	good := func(i int) string { return fmt.Sprintf("<13>Nov 27 10:00:0%d h app: good %d", i, i) }
	cases := []struct {
		name   string
		stream string
		want   []string
		reason string
	}{
		{"absurd", fmt.Sprintf("%d %s99999999 <13>lie\n%s\n", len(good(1)), good(1), good(2)), []string{good(1), good(2)}, "bad_octet_count"},
		{"too many digits", fmt.Sprintf("123456789012345 <13>lie\n%s\n", good(1)), []string{good(1)}, "bad_octet_count"},
		{"negative", fmt.Sprintf("-12 <13>lie\n%s\n", good(1)), []string{good(1)}, "bad_octet_count"},
		{"zero", fmt.Sprintf("0 <13>lie\n%s\n", good(1)), []string{good(1)}, "bad_octet_count"},
		// Larger than what follows, then the sender hangs up: the lying
		// line is refused, the lines it would have swallowed are kept.
		{"longer than the data", fmt.Sprintf("500 <13>lie\n%s\n%s\n", good(1), good(2)), []string{good(1), good(2)}, "truncated_frame"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakePub{}
			r := start(t, Config{Protocol: TCP, MaxMessageBytes: 1000}, pub)
			c, err := net.Dial("tcp", r.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(tc.stream))
			c.Close()
			recs := pub.waitFor(t, len(tc.want))
			if strings.Join(recs, "|") != strings.Join(tc.want, "|") {
				t.Errorf("records %q, want %q", recs, tc.want)
			}
			if got := r.Counters().Value("rejected:" + tc.reason); got != 1 {
				t.Errorf("rejected %s = %v, want 1", tc.reason, got)
			}
		})
	}
}

// A newline-framed message over the limit is refused alone.
func TestTCPLineTooLong(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP, MaxMessageBytes: 100}, pub)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "<13>%s\n<13>after\n", strings.Repeat("x", 100000))
	c.Close()
	recs := pub.waitFor(t, 1)
	if len(recs) != 1 || recs[0] != "<13>after" {
		t.Errorf("records %q", recs)
	}
	if got := r.Counters().Value("rejected:line_too_long"); got != 1 {
		t.Errorf("line_too_long = %v, want 1", got)
	}
}

// When the receiver cannot keep up, the kernel drops datagrams: they are
// counted, and what was received plus what was dropped is what was sent.
func TestUDPDropsCounted(t *testing.T) {
	pub := &fakePub{block: make(chan struct{})}
	r := start(t, Config{Protocol: UDP, ReadBuffer: 4096}, pub)
	c, err := net.Dial("udp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The batcher holds 1000 records, then blocks on the publisher; the
	// socket's small buffer overflows behind it.
	const sent = 3000
	for i := range sent {
		fmt.Fprintf(c, "<13>Nov 27 10:00:00 h app: datagram %d", i)
	}
	time.Sleep(200 * time.Millisecond)
	close(pub.block)
	// One more datagram carries the kernel's final drop count to us.
	time.Sleep(100 * time.Millisecond)
	fmt.Fprintf(c, "<13>Nov 27 10:00:00 h app: last")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got := len(pub.records())
		dropped := r.Counters().Value("dropped")
		if float64(got)+dropped == sent+1 {
			if dropped == 0 {
				t.Fatalf("no drops counted; the test did not overflow the socket")
			}
			t.Logf("received %d, dropped %v", got, dropped)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("received %d + dropped %v != sent %d", len(pub.records()), r.Counters().Value("dropped"), sent+1)
}
