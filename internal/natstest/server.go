package natstest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// StartServer starts one JetStream nats-server process with extra lines
// added to its configuration (authorization, tls, accounts…; empty is a
// stock server: max_payload 1 MiB), and waits until a client connecting
// with opts gets JetStream answers. Without a binary it skips, as Start.
func StartServer(t testing.TB, extra string, opts ...nats.Option) *Cluster {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_NATS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c := &Cluster{t: t, bin: bin, opts: opts}
	port := freePorts(t, 1)[0]
	node := &Node{Name: "n1", Port: port, dir: filepath.Join(t.TempDir(), "n1")}
	if err := os.MkdirAll(node.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	node.conf = filepath.Join(node.dir, "nats.conf")
	conf := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\njetstream { store_dir: %q }\n%s\n",
		node.Name, node.Port, filepath.Join(node.dir, "js"), extra)
	if err := os.WriteFile(node.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Nodes = []*Node{node}
	t.Cleanup(c.stopAll)
	c.startNode(0)
	c.WaitReady(30 * time.Second)
	return c
}

// Dir is a directory of the test's for files a server's configuration
// names (certificates, keys), kept with node i's data.
func (c *Cluster) Dir(i int) string { return c.Nodes[i].dir }
