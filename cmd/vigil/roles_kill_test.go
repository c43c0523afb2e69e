package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/natstest"
)

// TestRolesSurviveKilledWorkerAndNATSNode is the scale-out proof: one
// ingest+api process, two detect workers (separate processes, role
// detect) and a three-node JetStream cluster share one store. Ten accounts
// fail to log on twice; while records keep coming, one NATS node and one
// detect worker are killed with SIGKILL; then each account fails a third
// time. Every record ingest acknowledged is stored, exactly once; each
// account's brute force fires once, counting three events; no other alert
// appears.
func TestRolesSurviveKilledWorkerAndNATSNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster and four processes")
	}
	cluster := natstest.Start(t, 3)
	dir := t.TempDir()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte(killBruteForceRules), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := newKey(t, dir, "acme", "admin")
	common := []string{"--no-builtin-rules", "--rules", rules,
		"--nats-url", strings.Join(cluster.URLs(), ","), "--bus-replicas", "3",
		// A stock nats-server takes messages of 1 MiB at most.
		"--bus-max-message", "1MiB", "--ingest-max-line", "256KiB",
		"--correlation-partitions", "8", "--partition-lease", "3s"}
	front := startServe(t, dir, append([]string{"--role", "ingest,api"}, common...)...)
	defer front.stop()
	w1 := startServe(t, dir, append([]string{"--role", "detect"}, common...)...)
	w2 := startServe(t, dir, append([]string{"--role", "detect"}, common...)...)
	defer w2.stop()

	// The detect-only processes serve their operations endpoints, not the
	// API.
	if r := do(t, "GET", w2.url+"/api/v1/alerts", key, "", nil); r.status != 404 {
		t.Fatalf("a detect worker answers the API: %d", r.status)
	}
	// The partitions are shared out: each worker holds some.
	pollFor(t, "both workers own partitions", 30*time.Second, func() bool {
		return gauge(t, w1.url, "vigil_correlation_partitions_owned") > 0 && gauge(t, w2.url, "vigil_correlation_partitions_owned") > 0
	})

	// One worker runs the once-only tasks (incidents, retention…): w1,
	// which started first and is killed below.
	pollFor(t, "worker 1 runs the once-only tasks", 30*time.Second, func() bool {
		return gauge(t, w1.url, "vigil_detect_singletons_held") == 1
	})
	if gauge(t, w2.url, "vigil_detect_singletons_held") != 0 {
		t.Fatal("both workers run the once-only tasks")
	}

	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	// Each record is told by its account and time (recordKey).
	failures := func(j int) ([]byte, []string) {
		var b bytes.Buffer
		var keys []string
		for i := range 10 {
			ts := at.Add(time.Duration(j)*time.Minute + time.Duration(i)*time.Second).Format(time.RFC3339)
			fmt.Fprintf(&b, `{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":"user%d","TimeCreated":%q}`+"\n", i, ts)
			keys = append(keys, fmt.Sprintf("user%d|%s", i, ts))
		}
		return b.Bytes(), keys
	}
	var mu sync.Mutex
	acked := map[string]bool{} // records ingest acknowledged (202)
	maybe := map[string]bool{} // records refused or cut off: stored or not
	post := func(body []byte, keys []string) bool {
		ok := false
		defer func() {
			mu.Lock()
			for _, k := range keys {
				if ok {
					acked[k] = true
				} else {
					maybe[k] = true
				}
			}
			mu.Unlock()
		}()
		req, _ := http.NewRequest("POST", front.url+"/api/v1/ingest?source=dc1&format=windows", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ok = resp.StatusCode == http.StatusAccepted
		return ok
	}
	// send keeps trying a body that must get through (a NATS election
	// may refuse it for a while).
	send := func(what string, body []byte, keys []string) {
		t.Helper()
		pollFor(t, what+" acknowledged", 60*time.Second, func() bool { return post(body, keys) })
	}

	// Records keep coming all along: successful logons, which no rule
	// reads.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			var b bytes.Buffer
			var keys []string
			for i := range 200 {
				ts := at.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
				fmt.Fprintf(&b, `{"EventID":4624,"Channel":"Security","Computer":"ws%d","TargetUserName":"u%d","TimeCreated":%q}`+"\n",
					i%7, n*200+i, ts)
				keys = append(keys, fmt.Sprintf("u%d|%s", n*200+i, ts))
			}
			post(b.Bytes(), keys)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	b0, k0 := failures(0)
	send("the first failures", b0, k0)
	b1, k1 := failures(1)
	send("the second failures", b1, k1)
	pollFor(t, "the failures stored", 60*time.Second, func() bool { return storedEvents(t, front.url, key) >= 20 })
	time.Sleep(500 * time.Millisecond) // the workers fetch more noise meanwhile

	cluster.Kill(0)
	w1.kill()
	t.Log("killed NATS node 1 and detect worker 1")

	b2, k2 := failures(2)
	send("the third failures", b2, k2)
	time.Sleep(2 * time.Second) // more records while the survivors take over
	// The killed worker's partitions, whose windows it had not saved
	// (correlation saves every 30s), move to the survivor with their
	// journals.
	pollFor(t, "worker 2 owns every partition", 30*time.Second, func() bool {
		return gauge(t, w2.url, "vigil_correlation_partitions_owned") == 8
	})
	pollFor(t, "worker 2 runs the once-only tasks", 30*time.Second, func() bool {
		return gauge(t, w2.url, "vigil_detect_singletons_held") == 1
	})
	close(stop)
	wg.Wait()

	want := int64(len(acked))
	// A batch the killed worker had fetched and not committed comes again
	// once its acknowledgement wait (60s) runs out.
	pollFor(t, fmt.Sprintf("the %d acknowledged records stored", want), 150*time.Second, func() bool {
		return storedEvents(t, front.url, key) >= want
	})
	type alertRow struct {
		Type     string `json:"type"`
		Count    int    `json:"count"`
		Entities []struct {
			Value string `json:"value"`
		} `json:"entities"`
	}
	var als []alertRow
	list := func() []alertRow {
		var out struct {
			Alerts []alertRow `json:"alerts"`
		}
		getJSON(t, front.url+"/api/v1/alerts?limit=500", key, &out)
		return out.Alerts
	}
	pollFor(t, "ten brute-force alerts", 60*time.Second, func() bool { als = list(); return len(als) >= 10 })
	time.Sleep(5 * time.Second) // any duplicate would have come by now
	als = list()
	// Every acknowledged record is stored, none twice; a record ingest
	// refused (503 while the cluster elected a new leader) may be stored
	// too: its publish can have reached the stream after ingest gave up
	// waiting, and the client would send it again.
	stored := storedByRecord(t, front.url, key)
	lost, twice, unknown := 0, 0, 0
	for k := range acked {
		if stored[k] == 0 {
			lost++
		}
	}
	for k, n := range stored {
		if n > 1 {
			twice++
		}
		if !acked[k] && !maybe[k] {
			unknown++
		}
	}
	if lost > 0 || twice > 0 || unknown > 0 {
		t.Errorf("of %d acknowledged records, %d not stored; %d records stored twice; %d stored that were never sent", want, lost, twice, unknown)
	}
	if len(als) != 10 {
		t.Errorf("%d alerts, want 10 (one brute force an account)", len(als))
	}
	for _, a := range als {
		if a.Type != "correlation" || a.Count != 3 {
			t.Errorf("alert %+v: want a correlation of 3 events", a)
		}
	}
	if t.Failed() {
		t.Logf("front:\n%s\nworker 2:\n%s\nworker 1 (killed):\n%s", front.stderr.String(), w2.stderr.String(), w1.stderr.String())
	}
	t.Logf("%d records acknowledged and stored, %d refused (of which %d stored anyway); %d alerts", want, len(maybe), len(stored)-int(want), len(als))
}

// storedByRecord counts the stored events by account and time.
func storedByRecord(t *testing.T, base, key string) map[string]int {
	t.Helper()
	out := map[string]int{}
	cursor := ""
	for {
		var page struct {
			Events []struct {
				Time   string            `json:"@timestamp"`
				Fields map[string]string `json:"fields"`
			} `json:"events"`
			Next string `json:"next"`
		}
		getJSON(t, base+"/api/v1/events?limit=1000&cursor="+cursor, key, &page)
		for _, e := range page.Events {
			ts, _ := time.Parse(time.RFC3339Nano, e.Time)
			out[e.Fields["TargetUserName"]+"|"+ts.UTC().Format(time.RFC3339)]++
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

var gaugeLine = regexp.MustCompile(`(?m)^([a-z_]+) ([0-9.e+-]+)$`)

// gauge reads one unlabelled metric of a process's /metrics (-1 when
// absent).
func gauge(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range gaugeLine.FindAllStringSubmatch(string(body), -1) {
		if m[1] == name {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return -1
}
