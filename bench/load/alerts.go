package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The trigger: a Security log cleared event (EventID 1102), which vigil's
// built-in rule turns into a high alert on its own. Each trigger names a
// host of its own, so it makes a new alert (the dedup key holds the host)
// that the generator can tell apart.
const (
	triggerRuleID    = "5f0d1b57-3c1e-4a62-9d77-7a1f2f1e0c01"
	triggerRuleTitle = "Windows Security Event Log Cleared"
)

func triggerHost(tag string, seq int) string { return fmt.Sprintf("vigil-load-%s-%d", tag, seq) }

func triggerRecord(tag string, seq int, now time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"EventID": 1102, "Channel": "Security", "Computer": triggerHost(tag, seq),
		"TimeCreated": now.UTC().Format(time.RFC3339Nano), "SubjectUserName": "vigil-load",
	})
	return append(b, '\n')
}

// triggers matches the alerts of the triggers to their acknowledgements:
// detection latency is from the ingest acknowledgement to the alert seen
// through the API.
type triggers struct {
	tag string
	mu  sync.Mutex
	ack map[int]time.Time // acknowledged, alert not yet seen
	// seen before its acknowledgement came back (the alert can be stored
	// before the HTTP answer reaches the generator)
	early    map[int]time.Time
	done     map[int]bool // seen and counted: polling sees an alert again
	lat      latencies
	interval latencies // since the last sample
	sent     int
}

func newTriggers(tag string) *triggers {
	return &triggers{tag: tag, ack: map[int]time.Time{}, early: map[int]time.Time{}, done: map[int]bool{}}
}

func (t *triggers) acked(seq int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent++
	if seen, ok := t.early[seq]; ok {
		delete(t.early, seq)
		t.done[seq] = true
		t.record(max(0, seen.Sub(at)))
		return
	}
	t.ack[seq] = at
}

func (t *triggers) seen(host string, at time.Time) {
	prefix := "vigil-load-" + t.tag + "-"
	if !strings.HasPrefix(strings.ToLower(host), strings.ToLower(prefix)) {
		return
	}
	seq, err := strconv.Atoi(host[len(prefix):])
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done[seq] {
		return
	}
	if a, ok := t.ack[seq]; ok {
		delete(t.ack, seq)
		t.done[seq] = true
		t.record(at.Sub(a))
		return
	}
	if _, dup := t.early[seq]; !dup {
		t.early[seq] = at
	}
}

func (t *triggers) record(d time.Duration) { t.lat.add(d); t.interval.add(d) }

// take returns the interval's latencies and starts a new interval.
func (t *triggers) take() latencies {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.interval
	t.interval = latencies{}
	return l
}

// pending is how many acknowledged triggers have no alert yet, and the
// oldest acknowledgement among them.
func (t *triggers) pending() (int, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest time.Time
	for _, a := range t.ack {
		if oldest.IsZero() || a.Before(oldest) {
			oldest = a
		}
	}
	return len(t.ack), oldest
}

// apiAlert is what the generator reads of an alert.
type apiAlert struct {
	ID       string `json:"id"`
	Entities []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"entities"`
}

// watchStream follows /api/v1/stream and looks up each created alert of
// the trigger rule; it reconnects (with Last-Event-ID) until ctx ends.
func watchStream(ctx context.Context, client *http.Client, api, key string, t *triggers, log *slog.Logger) {
	last := ""
	for ctx.Err() == nil {
		err := followStream(ctx, client, api, key, &last, t)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, io.EOF) { // the server ends the stream every 10 minutes
			log.Info("alert stream ended, reconnecting")
		} else {
			log.Warn("alert stream failed, reconnecting", "err", err)
		}
		time.Sleep(time.Second)
	}
}

func followStream(ctx context.Context, client *http.Client, api, key string, last *string, t *triggers) error {
	req, err := http.NewRequestWithContext(ctx, "GET", api+"/api/v1/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("stream: status %d: %s", resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data, id string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "alert" && data != "" {
				at := time.Now()
				var a struct{ ID, Title, Change string }
				if json.Unmarshal([]byte(data), &a) == nil && a.Title == triggerRuleTitle && a.Change == "created" {
					go lookUp(ctx, client, api, key, a.ID, at, t)
				}
			}
			if id != "" {
				*last = id
			}
			event, data, id = "", "", ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(line[5:])
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	return io.EOF
}

// lookUp reads one alert's entities; the time it counts is when the stream
// told of the alert, not when this answer came.
func lookUp(ctx context.Context, client *http.Client, api, key, id string, at time.Time, t *triggers) {
	var a apiAlert
	if err := getJSON(ctx, client, api+"/api/v1/alerts/"+id, key, &a); err != nil {
		return
	}
	for _, e := range a.Entities {
		if e.Type == "host" {
			t.seen(e.Value, at)
		}
	}
}

// pollAlerts lists the trigger rule's newest alerts every interval: for
// deployments whose API process does not see the alert stream; its
// latencies are coarser by up to one interval.
func pollAlerts(ctx context.Context, client *http.Client, api, key string, every time.Duration, t *triggers, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var page struct{ Alerts []apiAlert }
		at := time.Now()
		if err := getJSON(ctx, client, api+"/api/v1/alerts?rule="+triggerRuleID+"&sort=last_seen&limit=200", key, &page); err != nil {
			if ctx.Err() == nil {
				log.Warn("polling alerts", "err", err)
			}
			continue
		}
		for _, a := range page.Alerts {
			for _, e := range a.Entities {
				if e.Type == "host" {
					t.seen(e.Value, at)
				}
			}
		}
	}
}

func getJSON(ctx context.Context, client *http.Client, url, key string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}
