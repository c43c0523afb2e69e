// Package natstest starts real nats-server processes for tests: a
// three-node JetStream cluster whose nodes can be killed (SIGKILL) and
// started again, as an operator's cluster loses and regains a machine.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Binary is the nats-server the cluster runs: $VIGIL_NATS_SERVER, else
// nats-server on PATH, else Debian's /usr/sbin/nats-server.
func Binary() (string, error) {
	if p := os.Getenv("VIGIL_NATS_SERVER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nats-server"
	if _, err := os.Stat(debian); err != nil {
		return "", fmt.Errorf("no nats-server binary (set VIGIL_NATS_SERVER, or apt-get install nats-server): %w", err)
	}
	return debian, nil
}

// Node is one nats-server process of a Cluster.
type Node struct {
	Name string
	Port int // client port
	// cluster port, config file and store dir are kept across restarts so
	// that a restarted node rejoins with its JetStream data.
	clusterPort int
	conf        string
	dir         string
	cmd         *exec.Cmd
	done        chan struct{}
}

// URL is the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Running tells whether the node's process is up.
func (n *Node) Running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Cluster is a JetStream cluster of nats-server processes, stopped when
// the test ends.
type Cluster struct {
	t     testing.TB
	bin   string
	Nodes []*Node
	opts  []nats.Option // how ready() connects: a server's credentials
}

// Start starts an n-node JetStream cluster and waits until it has a
// meta leader and every node answers. Without a nats-server binary it
// skips the test (with the reason), unless VIGIL_REQUIRE_NATS=1, when it
// fails.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_NATS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c := &Cluster{t: t, bin: bin}
	base := t.TempDir()
	ports := freePorts(t, 2*n)
	var routes []string
	for i := 0; i < n; i++ {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i]))
	}
	for i := 0; i < n; i++ {
		node := &Node{Name: fmt.Sprintf("n%d", i+1), Port: ports[i], clusterPort: ports[n+i], dir: filepath.Join(base, fmt.Sprintf("n%d", i+1))}
		if err := os.MkdirAll(node.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		node.conf = filepath.Join(node.dir, "nats.conf")
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
jetstream { store_dir: %q }
cluster {
  name: vigiltest
  listen: 127.0.0.1:%d
  routes: [%s]
}
`, node.Name, node.Port, filepath.Join(node.dir, "js"), node.clusterPort, strings.Join(routes, ", "))
		if err := os.WriteFile(node.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, node)
	}
	t.Cleanup(c.stopAll)
	for i := range c.Nodes {
		c.startNode(i)
	}
	c.WaitReady(60 * time.Second)
	c.waitPeers(60 * time.Second)
	return c
}

// waitPeers waits until a stream replicated on every node can be made: a
// meta leader may answer before it knows all its peers, and a test's
// first stream would get "no suitable peers for placement".
func (c *Cluster) waitPeers(within time.Duration) {
	c.t.Helper()
	nc, err := nats.Connect(strings.Join(c.URLs(), ","), c.opts...)
	if err != nil {
		c.t.Fatalf("natstest: connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "NATSTEST_PROBE", Subjects: []string{"natstest.probe"}, Replicas: len(c.Nodes)})
		if err == nil {
			err = js.DeleteStream(ctx, "NATSTEST_PROBE")
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("natstest: no stream of %d replicas after %s: %v", len(c.Nodes), within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// URLs are the client URLs of every node, running or not, as an
// operator lists them.
func (c *Cluster) URLs() []string {
	var us []string
	for _, n := range c.Nodes {
		us = append(us, n.URL())
	}
	return us
}

// Kill stops node i with SIGKILL and waits for the process to end.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	n := c.Nodes[i]
	if !n.Running() {
		c.t.Fatalf("natstest: node %s is not running", n.Name)
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// Restart starts node i again on its ports and data, and waits until the
// cluster answers.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Nodes[i].Running() {
		c.t.Fatalf("natstest: node %s is running", c.Nodes[i].Name)
	}
	c.startNode(i)
	c.WaitReady(60 * time.Second)
}

func (c *Cluster) startNode(i int) {
	c.t.Helper()
	n := c.Nodes[i]
	cmd := exec.Command(c.bin, "-c", n.conf)
	logf, err := os.OpenFile(filepath.Join(n.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatalf("natstest: start %s: %v", n.Name, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(n.done) }()
}

// WaitReady waits until every running node accepts clients and
// JetStream answers with a meta leader.
func (c *Cluster) WaitReady(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if last = c.ready(); last == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("natstest: cluster not ready after %s: %v (logs in %s)", within, last, filepath.Dir(c.Nodes[0].dir))
}

func (c *Cluster) ready() error {
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		nc, err := nats.Connect(n.URL(), append([]nats.Option{nats.Timeout(time.Second), nats.NoReconnect()}, c.opts...)...)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = js.AccountInfo(ctx)
		cancel()
		nc.Close()
		if err != nil {
			return fmt.Errorf("%s: jetstream: %w", n.Name, err)
		}
	}
	return nil
}

// Log returns what node i has logged so far, for a failing test's report.
func (c *Cluster) Log(i int) string {
	b, _ := os.ReadFile(filepath.Join(c.Nodes[i].dir, "server.log"))
	return string(b)
}

func (c *Cluster) stopAll() {
	for _, n := range c.Nodes {
		if n.Running() {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.done:
			case <-time.After(10 * time.Second):
				_ = n.cmd.Process.Kill()
				<-n.done
			}
		}
	}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
