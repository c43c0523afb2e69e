package bus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const externalURL = "nats://127.0.0.1:4222"

// openExternal connects to the local NATS server under names no other test
// uses, and deletes its stream afterwards; it skips when no server answers.
func openExternal(t *testing.T) (*Bus, Config) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
	if err != nil {
		t.Skipf("no NATS server on 127.0.0.1:4222 (%v); external mode not tested", err)
	}
	conn.Close()
	tag := fmt.Sprintf("%d%06d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	cfg := Config{
		URL:        externalURL,
		Stream:     "VIGIL_TEST_" + tag,
		Subject:    "vigiltest." + tag,
		Consumer:   "detect_" + tag,
		MaxBytes:   64 << 20,
		MaxMsgSize: 1 << 20,
		Logger:     testLogger(t),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled {
			t.Skipf("NATS on 127.0.0.1:4222 has no JetStream: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.js.DeleteStream(ctx, cfg.Stream); err != nil {
			t.Errorf("delete test stream %s: %v", cfg.Stream, err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b, cfg
}

func TestExternal(t *testing.T) {
	b, cfg := openExternal(t)
	ctx := ctxT(t)
	if err := b.Healthy(ctx); err != nil {
		t.Fatal(err)
	}
	if b.MaxBatchBytes() > int(cfg.MaxMsgSize) {
		t.Fatalf("MaxBatchBytes %d above max_msg_size %d", b.MaxBatchBytes(), cfg.MaxMsgSize)
	}
	sent := make(map[string]*Batch)
	for i := 0; i < 10; i++ {
		batch := testBatch(t, 20, 300)
		if err := b.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
		sent[batch.ID.String()] = batch
	}
	last := testBatch(t, 1, 10)
	for i := 0; i < 2; i++ { // the retry is deduplicated
		if err := b.Publish(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
	sent[last.ID.String()] = last
	waitLag(t, b, 11)
	got := drain(t, b, 11, 2*time.Second, true)
	if len(got) != 11 {
		t.Fatalf("fetched %d, want 11", len(got))
	}
	for _, d := range got {
		want := sent[d.Batch.ID.String()]
		if want == nil {
			t.Fatalf("unknown or repeated batch %s", d.Batch.ID)
		}
		equalBatch(t, want, d.Batch)
		delete(sent, d.Batch.ID.String())
	}
	waitLag(t, b, 0)
}
