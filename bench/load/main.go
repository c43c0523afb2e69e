// Command load drives vigil at a set rate, open loop, with a mix of real
// log sources (read at run time from ../shared/data), and reports what an
// operator sizes a deployment by: offered and achieved rate, ingest
// acknowledgement latency, detection latency (acknowledged trigger event to
// its alert seen through the API), bus lag, memory and CPU per event of
// every vigil process, and errors. It samples all of it to a CSV every
// -sample and draws memory, lag and rate over time as a PNG.
//
// It starts one `vigil serve` itself, or drives a running deployment:
//
//	go run ./bench/load -rate 2000 -duration 2m -args "--rules ../shared/data/sigma/rules/windows"
//	go run ./bench/load -find-max
//	go run ./bench/load -ingest http://10.0.0.1:8080,http://10.0.0.2:8080 -api http://10.0.0.3:8080 \
//	    -metrics http://10.0.0.1:8080/metrics,http://10.0.0.2:8080/metrics,http://10.0.0.4:8080/metrics \
//	    -key "$VIGIL_KEY" -rate 5000 -duration 30m
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type config struct {
	bin, args, ingest, api, metrics, key  string
	rate                                  float64
	duration, every, trigEvery, drain     time.Duration
	batch                                 int
	mix, data, out, csv, png, tag, alerts string
	findMax                               bool
	startRate, factor, maxLag             float64
	step, maxDetect, maxIngest            time.Duration
	refine                                int
	keep                                  bool
	plot                                  string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "vigil", "", "vigil binary to start as one vigil serve (default: build ./cmd/vigil); not used with -ingest")
	flag.StringVar(&c.args, "args", "", "extra arguments for the vigil serve it starts, space-separated (e.g. \"--rules ../shared/data/sigma/rules/windows\")")
	flag.StringVar(&c.ingest, "ingest", "", "ingest base URLs of a running deployment, comma-separated, used round robin (e.g. http://10.0.0.1:8080,http://10.0.0.2:8080); empty: start one vigil serve")
	flag.StringVar(&c.api, "api", "", "API base URL of the running deployment, for the alert stream (default: the first -ingest URL)")
	flag.StringVar(&c.metrics, "metrics", "", "/metrics URLs of every vigil process of the running deployment, comma-separated (default: each -ingest URL and -api + /metrics)")
	flag.StringVar(&c.key, "key", os.Getenv("VIGIL_KEY"), "API key with ingest and read rights (an admin key) for the running deployment (default $VIGIL_KEY)")
	flag.Float64Var(&c.rate, "rate", 2000, "events a second to offer")
	flag.DurationVar(&c.duration, "duration", time.Minute, "how long to drive")
	flag.IntVar(&c.batch, "batch", 200, "events per ingest request")
	flag.StringVar(&c.mix, "mix", "windows=70,sshd=15,cloudtrail=10,vpcflow=5", "sources and their shares of the events: windows, sshd, cloudtrail, vpcflow")
	flag.StringVar(&c.data, "data", filepath.Join("..", "shared", "data"), "the shared data directory the records are read from")
	flag.DurationVar(&c.every, "sample", 5*time.Second, "sample interval (a CSV row each)")
	flag.DurationVar(&c.trigEvery, "trigger-every", time.Second, "how often to send a marked trigger event and time its alert")
	flag.StringVar(&c.alerts, "alerts", "stream", "how triggers' alerts are seen: stream (/api/v1/stream) or poll (GET /api/v1/alerts every 500ms)")
	flag.DurationVar(&c.drain, "drain", time.Minute, "after the load, how long to wait for the bus lag and the pending triggers to reach zero")
	flag.StringVar(&c.out, "out", "load-out", "directory for the CSV and PNG when -csv/-png are not given (kept out of git)")
	flag.StringVar(&c.csv, "csv", "", "CSV of the samples (default -out/load-TAG.csv)")
	flag.StringVar(&c.png, "png", "", "PNG of memory, lag and rate over time (default -out/load-TAG.png)")
	flag.StringVar(&c.tag, "tag", time.Now().UTC().Format("20060102t150405"), "run tag: names the sources, trigger hosts and files")
	flag.BoolVar(&c.findMax, "find-max", false, "ramp the rate by -factor every -step from -start-rate until it is no longer sustained, then refine, and report the maximum")
	flag.Float64Var(&c.startRate, "start-rate", 1000, "-find-max: first rate")
	flag.Float64Var(&c.factor, "factor", 1.5, "-find-max: rate multiplier between steps")
	flag.DurationVar(&c.step, "step", 45*time.Second, "-find-max: how long each rate is held")
	flag.IntVar(&c.refine, "refine", 2, "-find-max: bisection steps between the last sustained and the first failed rate")
	flag.Float64Var(&c.maxLag, "max-lag", 50, "-find-max: bus lag (batches) at the end of a step above which the rate is not sustained")
	flag.DurationVar(&c.maxDetect, "max-detect", 10*time.Second, "-find-max: detection latency p99 above which the rate is not sustained")
	flag.DurationVar(&c.maxIngest, "max-ingest", 2*time.Second, "-find-max: ingest acknowledgement p99 above which the rate is not sustained")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory of the vigil serve it starts")
	flag.StringVar(&c.plot, "plot", "", "only draw the PNG (-png, default next to it) from a CSV of an earlier run, and exit")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, c, log); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, log *slog.Logger) error {
	if c.plot != "" {
		rows, procs, err := readSamples(c.plot)
		if err != nil {
			return err
		}
		if c.png == "" {
			c.png = strings.TrimSuffix(c.plot, ".csv") + ".png"
		}
		title := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(c.plot), "load-"), ".csv")
		if err := writeGraph(c.png, rows, procs, title); err != nil {
			return err
		}
		fmt.Println("graph", c.png)
		return nil
	}
	if c.rate <= 0 || c.batch <= 0 || c.every <= 0 || c.trigEvery <= 0 {
		return fmt.Errorf("-rate, -batch, -sample and -trigger-every must be positive")
	}
	if c.alerts != "stream" && c.alerts != "poll" {
		return fmt.Errorf("-alerts %q: want stream or poll", c.alerts)
	}
	sources, err := parseMix(c.mix, c.data, c.tag)
	if err != nil {
		return err
	}
	t, err := openTarget(ctx, c, log)
	if err != nil {
		return err
	}
	if t.stop != nil {
		defer t.stop()
	}
	if c.csv == "" || c.png == "" {
		if err := os.MkdirAll(c.out, 0o755); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
	}
	if c.csv == "" {
		c.csv = filepath.Join(c.out, "load-"+c.tag+".csv")
	}
	if c.png == "" {
		c.png = filepath.Join(c.out, "load-"+c.tag+".png")
	}
	d := newDriver(t, sources, c.batch, c.tag, log)
	s, err := newSampler(d, c.csv)
	if err != nil {
		return err
	}
	defer s.close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if c.alerts == "stream" {
		go watchStream(watchCtx, d.client, t.api, t.key, d.trig, log)
	} else {
		go pollAlerts(watchCtx, d.client, t.api, t.key, 500*time.Millisecond, d.trig, log)
	}
	time.Sleep(time.Second) // the stream is open before the first trigger
	fmt.Fprintf(os.Stderr, "load: tag %s, mix %s, %d events a request, %d metrics URLs, CSV %s\n", c.tag, c.mix, c.batch, len(t.metrics), c.csv)
	if c.findMax {
		res := findMax(ctx, c, d, s, log)
		d.drainWait(ctx, s, c)
		fmt.Print(res)
	} else {
		startRow := s.take(ctx, c.rate)
		begin := time.Now()
		d.cpuStart = selfCPU()
		rows := d.phase(ctx, c.rate, c.duration, c.every, c.trigEvery, s)
		elapsed := time.Since(begin)
		d.drainWait(ctx, s, c)
		fmt.Print(summary(c, d, startRow, rows, elapsed))
	}
	if err := s.close(); err != nil {
		return fmt.Errorf("-csv %s: %w", c.csv, err)
	}
	if err := writeGraph(c.png, s.rows, len(t.metrics), c.tag); err != nil {
		return err
	}
	fmt.Printf("samples           %s\ngraph             %s\n", c.csv, c.png)
	return nil
}

// openTarget starts one vigil serve, or takes the deployment given by URLs.
func openTarget(ctx context.Context, c config, log *slog.Logger) (*target, error) {
	if c.ingest != "" {
		t := &target{key: c.key}
		for _, u := range strings.Split(c.ingest, ",") {
			if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
				t.ingest = append(t.ingest, u)
			}
		}
		t.api = strings.TrimRight(c.api, "/")
		if t.api == "" {
			t.api = t.ingest[0]
		}
		if c.metrics != "" {
			for _, u := range strings.Split(c.metrics, ",") {
				if u = strings.TrimSpace(u); u != "" {
					t.metrics = append(t.metrics, u)
				}
			}
		} else {
			seen := map[string]bool{}
			for _, u := range append(append([]string{}, t.ingest...), t.api) {
				if !seen[u] {
					seen[u] = true
					t.metrics = append(t.metrics, u+"/metrics")
				}
			}
		}
		if t.key == "" {
			return nil, fmt.Errorf("-ingest given without -key (or $VIGIL_KEY): the deployment needs an API key with ingest and read rights")
		}
		return t, nil
	}
	dir, err := os.MkdirTemp("", "vigil-load-")
	if err != nil {
		return nil, err
	}
	bin := c.bin
	if bin == "" {
		bin = filepath.Join(dir, "vigil")
		log.Info("building vigil", "out", bin)
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/vigil").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build ./cmd/vigil: %w\n%s", err, out)
		}
	}
	t, err := startServe(ctx, bin, dir, strings.Fields(c.args))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := t.stop
	t.stop = func() {
		stop()
		if !c.keep {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(os.Stderr, "load: data kept in", dir)
		}
	}
	return t, nil
}

// drainWait samples on, with no load, until the bus lag and the pending
// triggers are zero or -drain passes.
func (d *driver) drainWait(ctx context.Context, s *sampler, c config) {
	deadline := time.Now().Add(c.drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(c.every)
		r := s.take(ctx, 0)
		if r.Lag == 0 && r.Pending == 0 {
			return
		}
	}
}
