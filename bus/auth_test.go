package bus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/natstest"
	"github.com/vigil-sec/vigil/internal/testcert"
)

// openOn opens the bus on url with mod applied, closing it when the test
// ends; the error is returned for the tests of refusals.
func openOn(t *testing.T, url string, mod func(*Config)) (*Bus, error) {
	t.Helper()
	cfg := Config{URL: url, Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { _ = b.Close() })
	}
	return b, err
}

// roundTrip publishes a batch and fetches it back.
func roundTrip(t *testing.T, b *Bus) {
	t.Helper()
	ctx := ctxT(t)
	want := testBatch(t, 3, 100)
	if err := b.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	got := drain(t, b, 1, 5*time.Second, true)
	if len(got) != 1 {
		t.Fatalf("fetched %d batches, want 1", len(got))
	}
	equalBatch(t, want, got[0].Batch)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuth connects to nats-server processes that require each kind of
// credentials: with the right ones the bus works, with wrong or none
// Open fails naming the authorization failure.
func TestAuth(t *testing.T) {
	t.Run("user and password", func(t *testing.T) {
		s := natstest.StartServer(t, `authorization { user: vigil, password: "pa55 word" }`, nats.UserInfo("vigil", "pa55 word"))
		b, err := openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{User: "vigil", Password: "pa55 word"} })
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, b)
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{User: "vigil", Password: "wrong"} })
		wantAuthError(t, err)
		_, err = openOn(t, s.Nodes[0].URL(), nil)
		wantAuthError(t, err)
	})
	t.Run("token", func(t *testing.T) {
		s := natstest.StartServer(t, `authorization { token: "t0ken-123" }`, nats.Token("t0ken-123"))
		b, err := openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{Token: "t0ken-123"} })
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, b)
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{Token: "other"} })
		wantAuthError(t, err)
	})
	t.Run("nkey", func(t *testing.T) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		seedFile := writeFile(t, t.TempDir(), "user.nk", seed)
		opt, err := nats.NkeyOptionFromSeed(seedFile)
		if err != nil {
			t.Fatal(err)
		}
		s := natstest.StartServer(t, fmt.Sprintf(`authorization { users: [ { nkey: %s } ] }`, pub), opt)
		b, err := openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{NKeyFile: seedFile} })
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, b)
		other, _ := nkeys.CreateUser()
		otherSeed, _ := other.Seed()
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{NKeyFile: writeFile(t, t.TempDir(), "other.nk", otherSeed)} })
		wantAuthError(t, err)
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{NKeyFile: filepath.Join(t.TempDir(), "missing.nk")} })
		if err == nil || !strings.Contains(err.Error(), "nkey seed file") {
			t.Errorf("missing seed file: %v", err)
		}
	})
	t.Run("creds", func(t *testing.T) {
		dir := t.TempDir()
		conf, creds, otherCreds := operatorSetup(t, dir)
		s := natstest.StartServer(t, conf, nats.UserCredentials(creds))
		b, err := openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{CredsFile: creds} })
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, b)
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{CredsFile: otherCreds} })
		wantAuthError(t, err)
		bad := writeFile(t, dir, "bad.creds", []byte("not a creds file"))
		_, err = openOn(t, s.Nodes[0].URL(), func(c *Config) { c.Auth = Auth{CredsFile: bad} })
		if err == nil || !strings.Contains(err.Error(), "creds file "+bad) {
			t.Errorf("bad creds file: %v", err)
		}
	})
	t.Run("two methods refused", func(t *testing.T) {
		_, err := openOn(t, "nats://127.0.0.1:1", func(c *Config) { c.Auth = Auth{Token: "x", CredsFile: "y"} })
		if err == nil || !strings.Contains(err.Error(), "auth: token, creds are set; use one") {
			t.Errorf("two methods: %v", err)
		}
	})
}

func wantAuthError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("opened without the right credentials")
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Errorf("error does not say authorization: %v", err)
	}
}

// operatorSetup makes a decentralised-auth server configuration: an
// operator, a system account, an account with JetStream and a user of it
// (its creds file), and a user of an account the server does not know.
func operatorSetup(t *testing.T, dir string) (conf, creds, otherCreds string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	op, err := nkeys.CreateOperator()
	must(err)
	opPub, _ := op.PublicKey()
	opJWT, err := jwt.NewOperatorClaims(opPub).Encode(op)
	must(err)
	account := func(name string, js bool) (nkeys.KeyPair, string, string) {
		kp, err := nkeys.CreateAccount()
		must(err)
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		tok, err := ac.Encode(op)
		must(err)
		return kp, pub, tok
	}
	user := func(acc nkeys.KeyPair, name string) string {
		kp, err := nkeys.CreateUser()
		must(err)
		pub, _ := kp.PublicKey()
		uc := jwt.NewUserClaims(pub)
		uc.Name = name
		tok, err := uc.Encode(acc)
		must(err)
		seed, _ := kp.Seed()
		data, err := jwt.FormatUserConfig(tok, seed)
		must(err)
		return writeFile(t, dir, name+".creds", data)
	}
	_, sysPub, sysJWT := account("SYS", false)
	acc, accPub, accJWT := account("VIGIL", true)
	stranger, _, _ := account("STRANGER", true) // not preloaded
	opFile := writeFile(t, dir, "operator.jwt", []byte(opJWT))
	conf = fmt.Sprintf("operator: %q\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: { %s: %q, %s: %q }\n",
		opFile, sysPub, sysPub, sysJWT, accPub, accJWT)
	return conf, user(acc, "vigil"), user(stranger, "stranger")
}

// pemFiles writes a certificate and its key as PEM files.
func pemFiles(t *testing.T, dir, name string, cert tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	keyFile = writeFile(t, dir, name+"-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

// clientCA makes a CA and a client certificate it signs, for a server
// that verifies clients.
func clientCA(t *testing.T) (ca, client tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "vigil test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "vigil"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{caDER}, PrivateKey: caKey}, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestTLS connects over TLS to a nats-server with a test certificate (for
// 127.0.0.1 only): the CA file makes it trusted, the server name makes it
// match when the URL names another host, and a server that verifies
// clients takes the client certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	srv, pool := testcert.New(t)
	certFile, keyFile := pemFiles(t, dir, "server", srv)
	ca, client := clientCA(t)
	caFile, _ := pemFiles(t, dir, "client-ca", ca)
	clientCert, clientKey := pemFiles(t, dir, "client", client)
	conf := fmt.Sprintf("tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true }", certFile, keyFile, caFile)
	s := natstest.StartServer(t, conf, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.ClientCert(clientCert, clientKey))
	port := s.Nodes[0].Port
	ipURL, hostURL := fmt.Sprintf("tls://127.0.0.1:%d", port), fmt.Sprintf("tls://localhost:%d", port)
	full := TLS{CAFile: certFile, CertFile: clientCert, KeyFile: clientKey}

	b, err := openOn(t, ipURL, func(c *Config) { c.TLS = full })
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, b)

	named := full
	named.ServerName = "127.0.0.1"
	if _, err := openOn(t, hostURL, func(c *Config) { c.TLS = named }); err != nil {
		t.Errorf("with the server name: %v", err)
	}
	if _, err := openOn(t, hostURL, func(c *Config) { c.TLS = full }); err == nil || !strings.Contains(err.Error(), "localhost") {
		t.Errorf("a host the certificate does not name was accepted or not said: %v", err)
	}
	noCA := full
	noCA.CAFile = ""
	if _, err := openOn(t, ipURL, func(c *Config) { c.TLS = noCA }); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted server certificate was accepted or not said: %v", err)
	}
	noClient := TLS{CAFile: certFile}
	if _, err := openOn(t, ipURL, func(c *Config) { c.TLS = noClient }); err == nil {
		t.Error("opened without the client certificate the server requires")
	}
}

// TestStockServer is a nats-server with default settings (max_payload 1
// MiB) and the bus's defaults (8 MiB messages): Open adapts the batch
// budget instead of failing; a batch beyond it is refused alone.
func TestStockServer(t *testing.T) {
	s := natstest.StartServer(t, "")
	b, err := openOn(t, s.Nodes[0].URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const stock = 1 << 20
	if got := b.MaxBatchBytes(); got > stock-headerReserve || got < stock/2 {
		t.Fatalf("MaxBatchBytes %d, want just under the server's 1 MiB", got)
	}
	info, err := b.stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxMsgSize != stock {
		t.Errorf("stream max_msg_size %d, want the server's %d", info.Config.MaxMsgSize, stock)
	}
	// A batch filling the budget goes through; one beyond it is
	// refused, and the next one is not affected.
	n := b.MaxBatchBytes()/(4096+RecordOverhead) - 1
	full := &Batch{ID: testIDs.New(time.Now()), Workspace: "acme", Source: "s", Format: "json", Received: time.Now()}
	for i := 0; i < n; i++ {
		full.Records = append(full.Records, testBatch(t, 1, 4096).Records[0])
		full.Records[i].Data = incompressible(4096)
	}
	testIDs.Fill(time.Now(), full.Records)
	ctx := ctxT(t)
	if err := b.Publish(ctx, full); err != nil {
		t.Fatalf("a batch within MaxBatchBytes: %v", err)
	}
	over := &Batch{ID: testIDs.New(time.Now()), Workspace: "acme", Source: "s", Format: "json", Received: time.Now(),
		Records: []event.Raw{{Data: incompressible(stock), Line: 1}}}
	testIDs.Fill(time.Now(), over.Records)
	if err := b.Publish(ctx, over); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a batch over the server's max_payload: %v, want ErrTooLarge", err)
	}
	got := drain(t, b, 1, 5*time.Second, true)
	if len(got) != 1 || got[0].Batch.ID != full.ID || len(got[0].Batch.Records) != n {
		t.Fatalf("fetched %d batches, want the full one of %d records", len(got), n)
	}
	roundTrip(t, b)
}
