package bus

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-sec/vigil/internal/natstest"
)

// TestStreamSettingsApplied reopens the bus on an existing stream with
// changed settings: limits and consumer settings are applied in place; a
// change the server refuses fails Open, naming what differs.
func TestStreamSettingsApplied(t *testing.T) {
	s := natstest.StartServer(t, "")
	url := s.Nodes[0].URL()
	first, err := openOn(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := openOn(t, url, func(c *Config) {
		c.MaxAge, c.Discard, c.MaxBytes = time.Hour, DiscardOld, 32<<20
		c.AckWait, c.MaxAckPending = 10*time.Second, 50
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	si, err := b.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := si.Config; c.MaxAge != time.Hour || c.Discard != jetstream.DiscardOld || c.MaxBytes != 32<<20 || c.Retention != jetstream.WorkQueuePolicy {
		t.Errorf("stream not updated: max_age %v discard %v max_bytes %d retention %v", c.MaxAge, c.Discard, c.MaxBytes, c.Retention)
	}
	ci, err := b.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Config.AckWait != 10*time.Second || ci.Config.MaxAckPending != 50 {
		t.Errorf("consumer not updated: ack_wait %v max_ack_pending %d", ci.Config.AckWait, ci.Config.MaxAckPending)
	}
	roundTrip(t, b)

	// A server outside a cluster takes three replicas and keeps one:
	// Open says so rather than run with less than asked.
	_, err = openOn(t, url, func(c *Config) { c.Replicas = 3 })
	if err == nil || !strings.Contains(err.Error(), "asked for 3 replicas, the server keeps 1") {
		t.Errorf("three replicas on one server: %v", err)
	}
}

// TestStreamChangeRefused: a stream made by someone else with another
// storage cannot become the bus's; Open says which settings differ.
func TestStreamChangeRefused(t *testing.T) {
	s := natstest.StartServer(t, "")
	nc, err := nats.Connect(s.Nodes[0].URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: DefaultStream, Subjects: []string{DefaultSubject + ".>"},
		Storage: jetstream.MemoryStorage, Retention: jetstream.WorkQueuePolicy, MaxBytes: DefaultMaxBytes}); err != nil {
		t.Fatal(err)
	}
	_, err = openOn(t, s.Nodes[0].URL(), nil)
	if err == nil {
		t.Fatal("a memory stream was taken as the bus's")
	}
	for _, want := range []string{"stream VIGIL_RAW exists with other settings", "storage Memory → File", "refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "max_bytes") {
		t.Errorf("error lists a setting that did not change: %v", err)
	}
}

func TestExternalConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Dir: "x", Auth: Auth{Token: "t"}}, "auth: token is for an external server"},
		{Config{Dir: "x", TLS: TLS{CAFile: "ca.pem"}}, "tls: is for an external server"},
		{Config{Dir: "x", Placement: Placement{Tags: []string{"ssd"}}}, "placement: needs an external cluster"},
		{Config{URL: "nats://h:4222", Auth: Auth{User: "u"}}, "auth: user and password go together"},
		{Config{URL: "nats://h:4222", TLS: TLS{CertFile: "c.pem"}}, "tls: cert file and key file go together"},
		{Config{URL: "nats://h:4222", Discard: "oldest"}, `discard: "oldest" is neither "new" nor "old"`},
		{Config{URL: "nats://h:4222", MaxAge: -time.Second}, "max_age: -1s is negative"},
	} {
		_, err := c.cfg.withDefaults()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestReconnectDelay(t *testing.T) {
	for attempts, max := range map[int]time.Duration{0: reconnectMin, 1: 2 * reconnectMin, 3: 8 * reconnectMin, 10: reconnectMax, 100: reconnectMax} {
		for range 20 {
			if d := reconnectDelay(attempts); d < max/2 || d > max {
				t.Fatalf("reconnectDelay(%d) = %v, want in [%v, %v]", attempts, d, max/2, max)
			}
		}
	}
}

func TestRedactURLs(t *testing.T) {
	got := redactURLs("nats://vigil:s3cret@a:4222, nats://b:4222,tls://t0ken@c:4222")
	if want := "nats://redacted@a:4222,nats://b:4222,tls://redacted@c:4222"; got != want {
		t.Errorf("redactURLs = %q, want %q", got, want)
	}
}
