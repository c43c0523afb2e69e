package bus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/natstest"
)

// clusterLog records what a test's publisher and consumer saw.
type clusterLog struct {
	mu        sync.Mutex
	sent      map[string]*Batch         // acknowledged by the stream
	seqs      map[string]map[uint64]int // batch id → stream sequence → deliveries
	acked     map[string]int            // batch id → successful acks
	retries   int                       // publishes retried after ErrUnavailable
	last      time.Time                 // when the last batch was stored
	stall     time.Duration             // longest time between two stored batches
	redeliver int                       // deliveries with Delivered > 1
}

func (l *clusterLog) published() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent)
}

// missing lists acknowledged batches not yet delivered.
func (l *clusterLog) missing() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var m []string
	for id := range l.sent {
		if l.seqs[id] == nil {
			m = append(m, id)
		}
	}
	return m
}

// TestClusterNodeKilled runs the bus on a three-node JetStream cluster of
// nats-server processes with an R3 stream, publishing and consuming
// continuously, and SIGKILLs the stream's leader mid-stream: every batch
// the stream acknowledged is delivered, each stored once (a publish
// retried across the failure is deduplicated by its Nats-Msg-Id) and
// acknowledged once, and publishing resumes without the node.
func TestClusterNodeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server processes")
	}
	c := natstest.Start(t, 3)
	cfg := Config{
		URL:      strings.Join(c.URLs(), ","),
		Replicas: 3,
		AckWait:  5 * time.Second, // redeliver what an ack lost in the failure sooner
		MaxBytes: 256 << 20,
		Logger:   testLogger(t),
	}
	open := func() *Bus {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		b, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	// Ingest and detect as two processes would: two connections.
	pub, con := open(), open()
	info, err := pub.stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream not replicated on three nodes: %+v", info.Cluster)
	}

	log := &clusterLog{sent: map[string]*Batch{}, seqs: map[string]map[uint64]int{}, acked: map[string]int{}}
	stopPub, stopCon := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // publisher: retries a batch with its id until stored
		defer wg.Done()
		for {
			select {
			case <-stopPub:
				return
			default:
			}
			batch := testBatch(t, 5, 200)
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := pub.Publish(ctx, batch)
				cancel()
				if err == nil {
					break
				}
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("publish: %v", err)
					return
				}
				log.mu.Lock()
				log.retries++
				log.mu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
			log.mu.Lock()
			log.sent[batch.ID.String()] = batch
			if now := time.Now(); !log.last.IsZero() {
				log.stall = max(log.stall, now.Sub(log.last))
				log.last = now
			} else {
				log.last = now
			}
			log.mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	go func() { // consumer: fetches and acks; a failed ack is redelivered
		defer wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for {
			select {
			case <-stopCon:
				return
			default:
			}
			ds, err := con.Fetch(ctx, 50, 500*time.Millisecond)
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for _, d := range ds {
				id := d.Batch.ID.String()
				log.mu.Lock()
				if log.seqs[id] == nil {
					log.seqs[id] = map[uint64]int{}
				}
				log.seqs[id][d.Seq]++
				if d.Delivered > 1 {
					log.redeliver++
				}
				if want := log.sent[id]; want != nil {
					equalBatch(t, want, d.Batch)
				}
				log.mu.Unlock()
				actx, acancel := context.WithTimeout(ctx, 3*time.Second)
				if err := d.Ack(actx); err == nil {
					log.mu.Lock()
					log.acked[id]++
					log.mu.Unlock()
				}
				acancel()
				d.Release()
			}
		}
	}()

	waitFor := func(what string, within time.Duration, f func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !f() {
			if time.Now().After(deadline) {
				close(stopPub)
				close(stopCon)
				wg.Wait()
				t.Fatalf("timed out after %v waiting for %s", within, what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("100 batches before the kill", 60*time.Second, func() bool { return log.published() >= 100 })

	info, err = pub.stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	leader := slices.IndexFunc(c.Nodes, func(n *natstest.Node) bool { return n.Name == info.Cluster.Leader })
	if leader < 0 {
		t.Fatalf("stream leader %q is none of the nodes", info.Cluster.Leader)
	}
	before := log.published()
	killed := time.Now()
	c.Kill(leader)
	t.Logf("killed %s, the stream leader, after %d batches", info.Cluster.Leader, before)

	waitFor("publishing to resume without the node", 60*time.Second, func() bool { return log.published() >= before+100 })
	t.Logf("100 batches more stored %v after the kill", time.Since(killed).Round(time.Millisecond))
	close(stopPub)
	c.Restart(leader)
	waitFor("every acknowledged batch delivered", 90*time.Second, func() bool { return len(log.missing()) == 0 })
	// Let redeliveries of acks lost in the failure (AckWait 5s) arrive
	// before counting.
	time.Sleep(2 * cfg.AckWait)
	close(stopCon)
	wg.Wait()

	log.mu.Lock()
	defer log.mu.Unlock()
	for id := range log.seqs {
		if log.sent[id] == nil {
			t.Errorf("batch %s delivered but never acknowledged to the publisher", id)
		}
	}
	for id := range log.sent {
		if n := len(log.seqs[id]); n != 1 {
			t.Errorf("batch %s stored %d times (sequences %v), want once", id, n, log.seqs[id])
		}
		if n := log.acked[id]; n > 1 {
			t.Errorf("batch %s acknowledged %d times by the consumer", id, n)
		}
	}
	lag, err := con.Lag(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if lag != 0 {
		t.Errorf("lag %d after draining, want 0", lag)
	}
	st := pub.Stats()
	t.Logf("%d batches stored, longest pause between two %v, %d publish retries (%d recognised as duplicates), %d redeliveries",
		len(log.sent), log.stall.Round(time.Millisecond), log.retries, st.Duplicates, log.redeliver)
}
