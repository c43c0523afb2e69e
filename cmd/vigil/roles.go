package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// Roles of `vigil serve --role`: a process runs some or all of them, so
// that ingest scales behind a load balancer, detection with consumers of
// the bus, and the API with readers (docs/deployment.md).
//
//   - ingest: HTTP ingest (POST /api/v1/ingest) and the receivers, which
//     publish to the bus;
//   - detect: the detect stage (a consumer of the bus), correlation, and
//     the tasks that run once in a deployment — incident correlation,
//     assessment, response automation, feed fetches, source health and
//     retention;
//   - api: the API, the dashboard and its live streams.
//
// Every process answers /healthz, /readyz (its own checks) and /metrics
// on its listen address. A process of every role (all, the default) is
// today's single process: it correlates inline and runs the once-only
// tasks itself. Detect workers of a split deployment correlate by
// partition (analysis.RunPartitions) and hold the once-only tasks
// through a lease in the store, so that several can run; a split
// deployment has no process of every role.
type roles struct{ ingest, detect, api bool }

const (
	roleIngest = "ingest"
	roleDetect = "detect"
	roleAPI    = "api"
	roleAll    = "all"
)

// parseServeRoles reads the role setting: a list of ingest, detect, api or
// all.
func parseServeRoles(list []string) (roles, error) {
	var r roles
	for _, v := range splitListAll(list) {
		switch strings.ToLower(v) {
		case roleIngest:
			r.ingest = true
		case roleDetect:
			r.detect = true
		case roleAPI:
			r.api = true
		case roleAll:
			r = roles{true, true, true}
		default:
			return roles{}, fmt.Errorf("setting role: %q is not one of ingest, detect, api, all", v)
		}
	}
	if r == (roles{}) {
		r = roles{true, true, true}
	}
	return r, nil
}

func (r roles) all() bool { return r.ingest && r.detect && r.api }

// partitioned: a detect worker among others, which correlates by
// partition and leases the once-only tasks.
func (r roles) partitioned() bool { return r.detect && !r.all() }

func (r roles) String() string {
	if r.all() {
		return roleAll
	}
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.ingest, roleIngest}, {r.detect, roleDetect}, {r.api, roleAPI}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, ",")
}

// roleHandler is what a process's listener serves: everything with the
// api role; otherwise the operations endpoints, and ingest's route with
// the ingest role.
func roleHandler(r roles, h http.Handler) http.Handler {
	if r.api {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch p := req.URL.Path; {
		case p == "/healthz" || p == "/readyz" || p == "/metrics":
		case r.ingest && p == "/api/v1/ingest":
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error": fmt.Sprintf("%s is not served by this process (role %s): ask a process of role api", p, r)})
			return
		}
		h.ServeHTTP(w, req)
	})
}

// readyChecks are /readyz's checks for the process's roles: the bus for
// ingest and detect, the store for all, detection lag for ingest (which
// refuses records past ingest-max-lag), the once-only tasks' lease for a
// detect worker.
func (s *server) readyChecks(b *bus.Bus, db backend) []api.Check {
	r := s.cfg.roles
	var cs []api.Check
	if b != nil {
		cs = append(cs, api.Check{Name: "bus", Fn: b.Healthy})
	}
	cs = append(cs, api.Check{Name: "store", Fn: func(ctx context.Context) error { _, err := db.Workspaces(ctx); return err }})
	if b != nil && (r.ingest || r.detect) {
		cs = append(cs, api.Check{Name: "detection", Detail: detectionDetail(b, s.cfg.IngestMaxLag)})
	}
	if r.partitioned() {
		cs = append(cs, api.Check{Name: "singletons", Detail: s.singletonDetail})
	}
	return cs
}

// registerBusMetrics exports the bus's lag and backlog.
func (s *server) registerBusMetrics(b *bus.Bus) {
	s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigil_bus_lag_batches", Help: "Bus batches not yet processed and acknowledged.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := b.Lag(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
	s.reg.MustRegister(newBacklogCollector(b))
}

// partitionStore is what a detect worker among others asks of the store:
// partitioned correlation's journal, states and leases.
type partitionStore interface {
	analysis.PartitionStates
}

// Both stores keep the partitions.
var (
	_ partitionStore = (*sqlite.DB)(nil)
	_ partitionStore = (*postgres.DB)(nil)
)

// partitionStage sets a detect worker's stage to journal matches by
// partition rather than correlate them itself.
func (s *server) partitionStage(sc *analysis.StageConfig) error {
	if !s.cfg.roles.partitioned() {
		return nil
	}
	if _, ok := s.store.(partitionStore); !ok {
		return fmt.Errorf("setting role %s: the store does not keep correlation partitions; run role all", s.cfg.roles)
	}
	sc.CorrelationStates, sc.CorrelationPartitions = nil, s.cfg.CorrelationPartitions
	return nil
}

// workerID names this process in its leases: host, pid and a random part
// (a restarted process is a new worker).
func workerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// singletonLease is the lease of the once-only tasks.
const singletonLease = "detect-singletons"

// singletonState is /readyz's view of the once-only tasks in a detect
// worker.
type singletonState struct {
	held, lost atomic.Bool
}

func (s *server) singletonDetail(context.Context) (string, error) {
	switch {
	case s.single.lost.Load():
		return "", errors.New("the once-only tasks' lease was lost to another worker: restart this process")
	case s.single.held.Load():
		return "this worker runs incident correlation, assessment, response, feeds, source health and retention", nil
	default:
		return "standby: another detect worker runs the once-only tasks", nil
	}
}

// startRoles starts what the roles need beyond the stage: in a process of
// every role (or a detect one alone on its store, role detect without
// others is still partitioned) the once-only tasks at once; in a detect
// worker, the correlation partitions and the once-only tasks once it
// holds their lease.
func (s *server) startRoles(ctx context.Context, singletons func(context.Context) error, log *slog.Logger) error {
	r := s.cfg.roles
	if !r.detect {
		return nil
	}
	if !r.partitioned() {
		return singletons(ctx)
	}
	ps := s.store.(partitionStore) // checked by partitionStage
	owner := workerID()
	dlog := log.With("component", compDetect)
	s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigil_correlation_partitions_owned", Help: "Correlation partitions this detect worker owns.",
	}, func() float64 { return float64(s.stage.OwnedPartitions()) }))
	s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigil_detect_singletons_held", Help: "1 when this detect worker runs the once-only tasks (incidents, assessment, response, feeds, source health, retention).",
	}, func() float64 {
		if s.single.held.Load() && !s.single.lost.Load() {
			return 1
		}
		return 0
	}))
	s.bg.Go(func() {
		err := s.stage.RunPartitions(ctx, analysis.PartitionConfig{States: ps, Owner: owner,
			Partitions: s.cfg.CorrelationPartitions, LeaseTTL: s.cfg.PartitionLease})
		if err != nil {
			dlog.Error("correlation partitions not run: correlation alerts are not raised", "err", err)
		}
	})
	s.bg.Go(func() { s.holdSingletons(ctx, ps, owner, singletons, dlog) })
	log.With("component", compServer).Info("detect worker", "worker", owner, "role", r.String(), "partitions", s.cfg.CorrelationPartitions)
	return nil
}

// holdSingletons waits for the once-only tasks' lease, runs them while it
// holds it, and stops them if it is lost (the worker stalled past the
// lease, and another took over): they are not started twice in one
// process, so /readyz then asks for a restart. A worker that does not
// hold the lease reloads the feeds' stored indicators now and then, which
// the holder fetches.
func (s *server) holdSingletons(ctx context.Context, ps partitionStore, owner string, start func(context.Context) error, log *slog.Logger) {
	ttl := s.cfg.PartitionLease
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	var cancel context.CancelFunc
	feedsLoaded := time.Time{}
	for {
		lctx, lcancel := context.WithTimeout(context.Background(), ttl/3)
		ok, err := ps.AcquireLease(lctx, singletonLease, owner, ttl)
		lcancel()
		switch {
		case err != nil:
			log.Warn("once-only tasks' lease not renewed", "err", err)
		case ok && cancel == nil && !s.single.lost.Load():
			var sctx context.Context
			sctx, cancel = context.WithCancel(ctx)
			if err := start(sctx); err != nil {
				log.Error("once-only tasks not started", "err", err)
			}
			s.single.held.Store(true)
			log.Info("this detect worker runs the once-only tasks", "worker", owner)
		case !ok && cancel != nil:
			log.Error("once-only tasks' lease lost to another worker: stopped here; restart this process", "worker", owner)
			cancel()
			cancel = nil
			s.single.lost.Store(true)
		}
		if cancel == nil && time.Since(feedsLoaded) >= feedReloadEvery {
			if err := s.feeds.Load(ctx, ""); err != nil && ctx.Err() == nil {
				log.Warn("feeds' stored indicators not reloaded", "err", err)
			}
			feedsLoaded = time.Now()
		}
		select {
		case <-ctx.Done():
			if cancel != nil {
				cancel()
				rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = ps.ReleaseLease(rctx, singletonLease, owner)
				rcancel()
			}
			return
		case <-t.C:
		}
	}
}

// feedReloadEvery is how often a detect worker that does not fetch the
// feeds reloads their stored indicators.
const feedReloadEvery = 5 * time.Minute
