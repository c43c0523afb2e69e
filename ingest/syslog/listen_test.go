package syslog

import (
	"net"
	"testing"

	"github.com/vigil-sec/vigil/ingest"
)

// TestListenErrorSaidOnce: an address in use is reported as the network
// package says it ("listen tcp ADDR: bind: …"), once, after the receiver's
// name.
func TestListenErrorSaidOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, c := range []struct{ proto, addr, want string }{
		{TCP, ln.Addr().String(), "syslog receiver fw01: listen tcp " + ln.Addr().String() + ": bind: address already in use"},
		{UDP, pc.LocalAddr().String(), "syslog receiver fw01: listen udp " + pc.LocalAddr().String() + ": bind: address already in use"},
	} {
		_, err := New(Config{Name: "fw01", Protocol: c.proto, Listen: c.addr}, ingest.BatcherConfig{Target: target, Publisher: &fakePub{}}, nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", c.proto, err, c.want)
		}
	}
}
