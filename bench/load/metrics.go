package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metrics read from each vigil process's /metrics.
const (
	mRSS      = "process_resident_memory_bytes"
	mCPU      = "process_cpu_seconds_total"
	mLag      = "vigil_bus_lag_batches"
	mDetected = "vigil_detect_events_total"
)

// scrape reads the named metrics from a Prometheus text endpoint, each the
// sum of its series (a metric with labels counts all of them); a name the
// process does not export is absent from the map.
func scrape(ctx context.Context, client *http.Client, url string, names ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("metrics %s: status %d", url, resp.StatusCode)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value := parseSample(line)
		if !want[name] {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	return out, nil
}

// parseSample splits `name{labels} value [timestamp]` into name and value.
func parseSample(line string) (name, value string) {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return "", ""
	}
	name = line[:end]
	rest := line[end:]
	if rest[0] == '{' {
		close := strings.LastIndexByte(rest, '}')
		if close < 0 {
			return "", ""
		}
		rest = rest[close+1:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", ""
	}
	return name, f[0]
}
