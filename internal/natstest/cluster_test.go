package natstest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A stream replicated on three nodes keeps every acknowledged message
// when one node is killed, and takes writes again after the kill.
func TestClusterSurvivesKill(t *testing.T) {
	c := Start(t, 3)
	nc, err := nats.Connect(strings.Join(c.URLs(), ","), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	acked := 0
	publish := func(n int) {
		for i := 0; i < n; i++ {
			for {
				// Each attempt has its own timeout: a publish whose ack
				// was lost with the killed node would otherwise wait
				// out the whole test's context.
				actx, acancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := js.Publish(actx, "t.x", []byte("m"), jetstream.WithMsgID(fmt.Sprintf("m-%d", acked)))
				acancel()
				if err == nil {
					acked++
					break
				} else if ctx.Err() != nil {
					t.Fatalf("publish: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	publish(100)
	c.Kill(0)
	publish(100)
	s, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int(info.State.Msgs) != acked {
		t.Fatalf("stream holds %d messages after a node was killed, %d were acknowledged", info.State.Msgs, acked)
	}
	c.Restart(0)
	if c.Nodes[0].Running() != true {
		t.Fatal("node 1 not running after restart")
	}
}
