package main

import (
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soak-cluster.sh for a few seconds: three NATS nodes holding the bus
// stream with three replicas, vigil on a PostgreSQL schema of its own,
// every event acknowledged and every vigil process sampled; afterwards the
// schema is dropped and nothing listens on the run's ports. It starts
// eight processes on fixed ports, so it runs only when asked:
// VIGIL_SOAK_TEST=1 (needs nats-server, psql and the PostgreSQL of
// SOAK_PG_URL, default the local database test). VIGIL_BIN names a built
// vigil; otherwise the script builds ./cmd/vigil.
func TestSoakClusterScript(t *testing.T) {
	if os.Getenv("VIGIL_SOAK_TEST") != "1" {
		t.Skip("set VIGIL_SOAK_TEST=1 to run soak-cluster.sh (three nats-server nodes, PostgreSQL, three vigil processes)")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql is needed to check the schema is dropped:", err)
	}
	pg := os.Getenv("SOAK_PG_URL")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/test"
	}
	base := 47400 // not the script's default, so that a soak may run beside the test
	if v := os.Getenv("SOAK_BASE_PORT"); v != "" {
		base, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	tag := fmt.Sprintf("t%d", time.Now().UnixNano()%1e9)
	cmd := exec.Command("bench/load/soak-cluster.sh", "-rate", "300", "-duration", "8s", "-sample", "2s", "-drain", "30s")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "SOAK_DIR="+dir, "SOAK_TAG="+tag, "SOAK_BASE_PORT="+strconv.Itoa(base), "SOAK_PG_URL="+pg)
	if bin := os.Getenv("VIGIL_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "SOAK_VIGIL="+abs)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soak-cluster.sh: %v\n%s", err, out)
	}
	text := string(out)

	if !strings.Contains(text, "bus stream replicas: 3") {
		t.Errorf("the bus stream is not on three replicas:\n%s", text)
	}
	if m := regexp.MustCompile(`acknowledged \d+ \((\d+) of (\d+) events`).FindStringSubmatch(text); m == nil || m[1] != m[2] || m[1] != "2400" {
		t.Errorf("want 2400 of 2400 events acknowledged (300/s for 8 s), got %q:\n%s", m, text)
	}
	if !strings.Contains(text, "0 failed requests") {
		t.Errorf("failed requests:\n%s", text)
	}

	// Every vigil process was sampled: an RSS column each, with figures.
	f, err := os.Open(filepath.Join(dir, "load-"+tag+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"rss_mib_0", "rss_mib_1", "rss_mib_2"} {
		i, ok := col[h]
		if !ok {
			t.Fatalf("no column %s in %v", h, rows[0])
		}
		var maxRSS float64
		for _, r := range rows[1:] {
			v, _ := strconv.ParseFloat(r[i], 64)
			maxRSS = max(maxRSS, v)
		}
		if maxRSS < 10 {
			t.Errorf("%s: max %v MiB: the process was not sampled", h, maxRSS)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "nats-procs.csv")); err != nil || strings.Count(string(b), "\n") < 2 {
		t.Errorf("the NATS nodes were not sampled: %v\n%s", err, b)
	}

	// Cleaned up: the schema dropped, no NATS node or vigil left listening.
	q, err := exec.Command("psql", pg, "-Atc", "SELECT count(*) FROM pg_namespace WHERE nspname = 'vigil_soak_"+tag+"'").CombinedOutput()
	if err != nil || strings.TrimSpace(string(q)) != "0" {
		t.Errorf("schema vigil_soak_%s still there (or psql failed: %v): %s", tag, err, q)
	}
	for _, p := range []int{base + 1, base + 2, base + 3, base + 31, base + 32, base + 33} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second); err == nil {
			c.Close()
			t.Errorf("something still listens on port %d after the script ended", p)
		}
	}
}
