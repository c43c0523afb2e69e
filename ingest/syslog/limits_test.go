package syslog

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/ingest"
)

// dialFrom connects to r from a chosen loopback address (Linux routes all
// of 127.0.0.0/8 to lo), so that one test can play several senders.
func dialFrom(t *testing.T, from string, r *Receiver) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Skipf("cannot dial from %s (a second loopback address is needed): %v", from, err)
	}
	return c
}

// closedWithin reports whether the server closes c within d: a read
// returns EOF (or a reset) rather than timing out.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// TestTCPIdleSocketsDoNotLockOut: one address opening many idle sockets
// gets only its share of the listener; a sender at another address still
// gets through meanwhile; the idle sockets are closed after the idle
// timeout, and the refusals are counted.
func TestTCPIdleSocketsDoNotLockOut(t *testing.T) {
	pub := &fakePub{}
	const idle = 1500 * time.Millisecond
	r := start(t, Config{Protocol: TCP, MaxConnections: 8, MaxConnectionsPerAddress: 4, IdleTimeout: idle}, pub)
	opened := time.Now()
	var idlers []net.Conn
	for range 20 {
		c := dialFrom(t, "127.0.0.1", r)
		defer c.Close()
		idlers = append(idlers, c)
	}
	// Let the listener accept (and refuse) them all.
	deadline := time.Now().Add(time.Second)
	for r.Counters().Value("conns")+r.Counters().Refused() < 20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := r.Counters().Refused(); got != 16 {
		t.Errorf("refused connections = %v, want 16 (20 from one address, 4 allowed)", got)
	}

	// Meanwhile, with the idle sockets still open, another sender is heard.
	legit := dialFrom(t, "127.0.0.2", r)
	defer legit.Close()
	if closedWithin(legit, 100*time.Millisecond) {
		t.Fatal("a sender at another address was turned away")
	}
	msg := "<13>Nov 27 10:00:00 host app: still heard"
	fmt.Fprintf(legit, "%s\n", msg)
	if recs := pub.waitFor(t, 1); recs[0] != msg {
		t.Fatalf("records %q, want %q", recs, msg)
	}
	if time.Since(opened) >= idle {
		t.Skipf("machine too slow: the check took longer (%v) than the idle timeout", time.Since(opened))
	}

	// Every idle socket is closed by the server after the idle timeout.
	open := 0
	for _, c := range idlers {
		if !closedWithin(c, idle+2*time.Second) {
			open++
		}
	}
	if open > 0 {
		t.Errorf("%d idle sockets still open after the idle timeout", open)
	}
	if got := r.Counters().Value("timeouts:idle"); got != 4 {
		t.Errorf("idle timeouts = %v, want 4", got)
	}
	// The address that was limited can send again once its idle sockets are gone.
	c := dialFrom(t, "127.0.0.1", r)
	fmt.Fprintf(c, "%s again\n", msg)
	c.Close()
	pub.waitFor(t, 2)
}

// TestTCPMessageTimeout: a sender that starts a message and trickles it
// (a byte now and then, never idle long enough for the idle timeout) is
// cut off after the per-message timeout; the unfinished message is refused.
func TestTCPMessageTimeout(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP, IdleTimeout: time.Second, MessageTimeout: 300 * time.Millisecond}, pub)
	c := dialFrom(t, "127.0.0.1", r)
	defer c.Close()
	fmt.Fprintf(c, "<13>done\n")
	pub.waitFor(t, 1)
	cut := false
	for range 20 {
		if _, err := c.Write([]byte("x")); err != nil {
			cut = true
			break
		}
		if closedWithin(c, 100*time.Millisecond) {
			cut = true
			break
		}
	}
	if !cut {
		t.Fatal("a message trickled for 2 s was not cut off")
	}
	if got := r.Counters().Value("timeouts:message"); got != 1 {
		t.Errorf("message timeouts = %v, want 1", got)
	}
	if got := r.Counters().Value("rejected:" + ReasonTruncated); got != 1 {
		t.Errorf("truncated_frame = %v, want 1 (the unfinished message)", got)
	}
	if recs := pub.records(); len(recs) != 1 {
		t.Errorf("records %q: the unfinished message must not be stored", recs)
	}
}

// TestConnectionLimitsChecked: a per-address limit that would let one
// address take every connection is refused at start.
func TestConnectionLimitsChecked(t *testing.T) {
	_, err := New(Config{Name: "fw01", Protocol: TCP, Listen: "127.0.0.1:0", MaxConnections: 4, MaxConnectionsPerAddress: 4},
		ingest.BatcherConfig{Target: target, Publisher: &fakePub{}}, nil)
	if err == nil {
		t.Fatal("per-address limit equal to the total was accepted")
	}
	want := "syslog receiver fw01: max-connections-per-address (4) must be below max-connections (4), or one address can take them all"
	if err.Error() != want {
		t.Errorf("error %q\nwant %q", err, want)
	}
}

// TestTCPSeparatorsAreIdle: a sender that only sends blank lines (no
// message) is idle: they do not keep its connection open.
func TestTCPSeparatorsAreIdle(t *testing.T) {
	pub := &fakePub{}
	r := start(t, Config{Protocol: TCP, IdleTimeout: 400 * time.Millisecond}, pub)
	c := dialFrom(t, "127.0.0.1", r)
	defer c.Close()
	began := time.Now()
	for time.Since(began) < 3*time.Second {
		if _, err := c.Write([]byte("\n")); err != nil {
			break
		}
		if closedWithin(c, 100*time.Millisecond) {
			break
		}
	}
	if d := time.Since(began); d >= 3*time.Second {
		t.Fatalf("a connection sending only newlines was kept open %v (idle timeout 400ms)", d)
	}
	if got := r.Counters().Value("timeouts:idle"); got != 1 {
		t.Errorf("idle timeouts = %v, want 1", got)
	}
}
