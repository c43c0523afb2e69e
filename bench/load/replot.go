package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// readSamples reads a CSV this command wrote back into samples, for -plot:
// redraw the graph of a run (or of a run by another version) without
// running it again.
func readSamples(path string) ([]sample, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("-plot: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, 0, fmt.Errorf("-plot %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, 0, fmt.Errorf("-plot %s: empty", path)
	}
	col := map[string]int{}
	procs := 0
	for i, h := range recs[0] {
		col[h] = i
		if strings.HasPrefix(h, "rss_mib_") {
			procs++
		}
	}
	for _, need := range []string{"t_s", "target_eps", "offered_eps", "acked_eps", "detected_eps", "lag_batches"} {
		if _, ok := col[need]; !ok {
			return nil, 0, fmt.Errorf("-plot %s: no column %s: not a bench/load CSV", path, need)
		}
	}
	var out []sample
	for n, r := range recs[1:] {
		num := func(name string) (float64, error) {
			v, err := strconv.ParseFloat(r[col[name]], 64)
			if err != nil {
				return 0, fmt.Errorf("-plot %s line %d, %s: %w", path, n+2, name, err)
			}
			return v, nil
		}
		var s sample
		var vals [6]float64
		for i, name := range []string{"t_s", "target_eps", "offered_eps", "acked_eps", "detected_eps", "lag_batches"} {
			if vals[i], err = num(name); err != nil {
				return nil, 0, err
			}
		}
		s.T = time.Duration(vals[0] * float64(time.Second))
		s.Target, s.Offered, s.Acked, s.Detected, s.Lag = vals[1], vals[2], vals[3], vals[4], vals[5]
		for p := range procs {
			v, err := num(fmt.Sprintf("rss_mib_%d", p))
			if err != nil {
				return nil, 0, err
			}
			s.RSS = append(s.RSS, v*(1<<20))
		}
		out = append(out, s)
	}
	return out, procs, nil
}
