package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// streamConfig is the stream the settings ask for.
func (b *Bus) streamConfig() jetstream.StreamConfig {
	cfg := b.cfg
	discard := jetstream.DiscardNew
	if cfg.Discard == DiscardOld {
		discard = jetstream.DiscardOld
	}
	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "vigil raw record batches, ingest to detect",
		Subjects:    []string{cfg.Subject + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     discard,
		MaxBytes:    cfg.MaxBytes,
		MaxMsgs:     -1,
		MaxAge:      cfg.MaxAge,
		MaxMsgSize:  int32(b.maxPayload),
		Duplicates:  cfg.DuplicateWindow,
		Replicas:    cfg.Replicas,
	}
	if p := cfg.Placement; p.Cluster != "" || len(p.Tags) > 0 {
		sc.Placement = &jetstream.Placement{Cluster: p.Cluster, Tags: p.Tags}
	}
	return sc
}

// streamDiff lists the settings in which have differs from want, as
// "name old → new", over the fields the bus manages.
func streamDiff(have, want jetstream.StreamConfig) []string {
	var d []string
	add := func(name string, h, w any) { d = append(d, fmt.Sprintf("%s %v → %v", name, h, w)) }
	if !slices.Equal(have.Subjects, want.Subjects) {
		add("subjects", have.Subjects, want.Subjects)
	}
	if have.Retention != want.Retention {
		add("retention", have.Retention, want.Retention)
	}
	if have.Storage != want.Storage {
		add("storage", have.Storage, want.Storage)
	}
	if have.Discard != want.Discard {
		add("discard", have.Discard, want.Discard)
	}
	if have.MaxBytes != want.MaxBytes {
		add("max_bytes", have.MaxBytes, want.MaxBytes)
	}
	if have.MaxAge != want.MaxAge {
		add("max_age", have.MaxAge, want.MaxAge)
	}
	if have.MaxMsgSize != want.MaxMsgSize {
		add("max_msg_size", have.MaxMsgSize, want.MaxMsgSize)
	}
	if have.Duplicates != want.Duplicates {
		add("duplicate_window", have.Duplicates, want.Duplicates)
	}
	if have.Replicas != want.Replicas {
		add("replicas", have.Replicas, want.Replicas)
	}
	if want.Placement != nil && (have.Placement == nil || have.Placement.Cluster != want.Placement.Cluster ||
		!slices.Equal(have.Placement.Tags, want.Placement.Tags)) {
		add("placement", placementString(have.Placement), placementString(want.Placement))
	}
	return d
}

func placementString(p *jetstream.Placement) string {
	if p == nil {
		return "(any)"
	}
	return fmt.Sprintf("cluster=%q tags=%v", p.Cluster, p.Tags)
}

// ensureStream creates the stream, or updates the one that exists to the
// settings. A change the server refuses (storage and retention never
// change; some servers cannot move a stream) fails with the changes listed.
func (b *Bus) ensureStream(ctx context.Context) error {
	want := b.streamConfig()
	s, err := b.js.Stream(ctx, want.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if b.stream, err = b.js.CreateStream(ctx, want); err != nil {
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return b.ensureStream(ctx) // another process created it meanwhile
			}
			return fmt.Errorf("bus: create stream %s (replicas %d): %w", want.Name, want.Replicas, unavailable(err))
		}
		b.log.Info("bus stream created", "stream", want.Name, "replicas", want.Replicas)
		return b.checkReplicas(want)
	case err != nil:
		return fmt.Errorf("bus: stream %s info: %w", want.Name, unavailable(err))
	}
	have := s.CachedInfo().Config
	diff := streamDiff(have, want)
	if len(diff) == 0 {
		b.stream = s
		return nil
	}
	// Keep what the bus does not manage (an operator's own settings, such
	// as mirrors' sources or metadata) as it is.
	upd := have
	upd.Subjects, upd.Retention, upd.Storage, upd.Discard = want.Subjects, want.Retention, want.Storage, want.Discard
	upd.MaxBytes, upd.MaxAge, upd.MaxMsgSize, upd.Duplicates = want.MaxBytes, want.MaxAge, want.MaxMsgSize, want.Duplicates
	upd.Replicas, upd.MaxMsgs = want.Replicas, want.MaxMsgs
	if want.Placement != nil {
		upd.Placement = want.Placement
	}
	if b.stream, err = b.js.UpdateStream(ctx, upd); err != nil {
		return fmt.Errorf("bus: stream %s exists with other settings (%s) and the server refused to change it: %w; "+
			"set them back, or move the batches off and delete the stream (storage and retention never change)",
			want.Name, strings.Join(diff, ", "), unavailable(err))
	}
	b.log.Info("bus stream updated", "stream", want.Name, "changes", strings.Join(diff, ", "))
	return b.checkReplicas(want)
}

// checkReplicas fails when the server holds fewer copies than asked: a
// server outside a cluster takes a request for three and keeps one.
func (b *Bus) checkReplicas(want jetstream.StreamConfig) error {
	info := b.stream.CachedInfo()
	got := info.Config.Replicas
	if info.Cluster == nil || info.Cluster.Name == "" {
		got = 1 // not clustered, whatever the configuration says
	} else if n := len(info.Cluster.Replicas) + 1; info.Cluster.Leader != "" && n < got {
		// (during an election the leader and its peers are not known)
		got = n
	}
	if got < want.Replicas {
		return fmt.Errorf("bus: stream %s: asked for %d replicas, the server keeps %d (more than one needs a JetStream cluster)",
			want.Name, want.Replicas, got)
	}
	return nil
}

// setupRetry is how long Open keeps trying to create the stream and the
// consumer while a cluster elects its leaders (a node just restarted).
const setupRetry = 30 * time.Second

// consumerConfig is the durable consumer the settings ask for.
func (b *Bus) consumerConfig() jetstream.ConsumerConfig {
	cfg := b.cfg
	maxDeliver := cfg.MaxDeliver
	if maxDeliver == 0 {
		maxDeliver = -1
	}
	return jetstream.ConsumerConfig{
		Durable:       cfg.Consumer,
		Description:   "vigil detect stage",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		MaxDeliver:    maxDeliver,
		Replicas:      cfg.Replicas,
	}
}

// ensureConsumer creates or updates the durable consumer; AckWait,
// MaxAckPending, MaxDeliver and replicas change in place.
func (b *Bus) ensureConsumer(ctx context.Context) error {
	cc := b.consumerConfig()
	var err error
	b.cons, err = b.js.CreateOrUpdateConsumer(ctx, b.cfg.Stream, cc)
	if err != nil {
		return fmt.Errorf("bus: create or update consumer %s on stream %s (ack_wait %v, max_ack_pending %d, replicas %d): %w",
			cc.Durable, b.cfg.Stream, cc.AckWait, cc.MaxAckPending, cc.Replicas, unavailable(err))
	}
	return nil
}
