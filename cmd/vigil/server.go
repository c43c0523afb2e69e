package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/ingest"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/feed"
	"github.com/vigil-sec/vigil/respond"
	"github.com/vigil-sec/vigil/sourcehealth"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
	"github.com/vigil-sec/vigil/web"
)

// server is `vigil serve`: HTTP ingest and API, the bus, the detect stage
// and the store, in one process.
type server struct {
	cfg   *Config
	log   *slog.Logger
	reg   *prometheus.Registry
	bus   *bus.Bus
	store backend
	api   *api.API // the demo issues its sign-in link with it
	rules atomic.Pointer[analysis.Rules]
	// ruleCache, when set, keeps the literal sets of the rules in force
	// at shutdown.
	ruleCache *ruleCache
	mon       atomic.Pointer[sourcehealth.Monitor]
	stage     *analysis.Stage
	// intel is every workspace's indicator set, kept by feeds; the
	// enrichment step matches events against it.
	intel *feed.Sets
	feeds *feed.Manager
	// enrich holds GeoIP, assets and each workspace's intelligence
	// matcher (serveenrich.go).
	enrich *serveEnrichment
	http   *http.Server
	ln     net.Listener
	tls    bool

	stageCancel context.CancelFunc
	stageDone   chan error
	bg          sync.WaitGroup
	bgCancel    context.CancelFunc

	// streams are the TCP/TLS receivers' counters by workspace and
	// source; set before serving, read-only after.
	streams map[[2]string][]*ingest.Counters

	// respond is the response automation engine, once started
	// (respond.go).
	respond atomic.Pointer[respond.Engine]
	// single tells whether a detect worker runs the once-only tasks
	// (roles.go).
	single singletonState
}

func newLogger(cfg *Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("setting log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}

// correlationLateness is how late (in event time) a match may arrive in
// `vigil serve` and still count for correlations.
const correlationLateness = 2 * time.Minute

// startServer opens everything and begins serving on cfg.Listen. log is
// the root logger: each subsystem gets it with its component
// (logcomponent.go).
func startServer(ctx context.Context, cfg *Config, log *slog.Logger) (*server, error) {
	s := &server{cfg: cfg, log: log.With("component", compServer), reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	memLimit := applyMemoryLimit(cfg, s.log)
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()
	// Every rule setting (status, disabled ids, placeholders, taxonomy);
	// reload.go keeps the set current while serving. Rules are checked
	// before anything is made in the data dir.
	rl := newRuleLoader(cfg, log.With("component", compRules), correlationLateness)
	// File hashes are matched against intelligence even when no rule reads them.
	// The hashes are matched, and the baselines learn their fields, even
	// when no rule reads them.
	rl.extraFields = slices.Concat(indicators.HashFields, baseline.SourceFields(baseline.Defaults))
	// Rule packs installed with vigil rules install (rulepack.go).
	rl.packs = rulePacks(cfg)
	if roots := rl.rootPaths(); len(roots) > 0 {
		// The parsed-rule cache of scan (rulecache.go), under the user's
		// cache directory: a start with SigmaHQ's rules skips their YAML.
		rl.cache = openRuleCache("", roots, rl.opts)
	}
	rl.refresh()
	rl.saveCache()
	rs, rep := rl.build()
	if len(rep.pathErrs) > 0 {
		return nil, prefixErrs("setting rules: ", rep.pathErrs)
	}
	if cfg.RulesStrict && len(rep.errs) > 0 {
		return nil, fmt.Errorf("%s not loaded, and rules-strict is set", count(len(rep.errs), "rule", "rules"))
	}
	// The literal sets an earlier scan or server built for these rules
	// are taken instead of being built by the first events (kept anew at
	// shutdown).
	if rl.cache.loadSets(rs.Engine) {
		rl.log.Info("kept literal sets taken", "path", rl.cache.setsPath())
	}
	s.ruleCache = rl.cache
	s.useRules(rs, rep, rl.log)
	if err := makePrivateDir(cfg.DataDir, s.log.Warn); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if cfg.NATSURL == "" {
		// The embedded bus makes its directories 0750: a private parent
		// keeps them to the owner.
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, "bus"), 0o700); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
		}
	}

	db, err := openBackend(ctx, cfg, log.With("component", compStore))
	if err != nil {
		return nil, err // "open store PATH: …"
	}
	s.store = db
	if err := provision(ctx, db, cfg, log.With("component", compStore)); err != nil {
		return nil, err
	}
	specs, err := feedSpecs(cfg)
	if err != nil {
		return nil, err
	}
	s.intel = &feed.Sets{New: newIntelSet}
	if s.feeds, err = newFeedManager(cfg, db, s.intel, s.reg, log.With("component", compIntel)); err != nil {
		return nil, err
	}
	if err := s.feeds.Provision(ctx, specs); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}

	// An api-only process (roles.go) uses no bus.
	var b *bus.Bus
	if cfg.roles.ingest || cfg.roles.detect {
		b, err = bus.Open(ctx, cfg.busExternal(bus.Config{
			URL: cfg.NATSURL, Dir: filepath.Join(cfg.DataDir, "bus"),
			SyncInterval: cfg.BusSyncInterval, SyncAlways: cfg.BusSyncInterval == 0,
			MaxBytes: cfg.busMaxBytes, MaxMsgSize: int32(cfg.busMaxMessage),
			Logger: log.With("component", compBus),
		}))
		if err != nil {
			return nil, err // "bus: …"
		}
		s.bus = b
	}

	enr, err := newServeEnrichment(cfg, db, log.With("component", compDetect))
	if err != nil {
		return nil, err
	}
	// Every workspace's events are matched against its indicator set,
	// which its feeds replace in place (made empty on first use).
	enr.matchers = func(ws string) intel.Matcher { return s.intel.Get(ws) }
	enr.baselines, enr.log = baselineStore{db}, log.With("component", compDetect)
	s.enrich = enr
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	stageCfg := analysis.StageConfig{
		Bus: b, Store: crashAfterCommits(db), Sources: db, Workspaces: db, DecodeOptions: decodeOptions(cfg), Rules: s.rules.Load, Workers: workers,
		Enrichers: enr.chain, Suppressions: db, DisabledRules: db, CorrelationStates: db,
		Logger: log.With("component", compDetect), Metrics: analysis.NewMetrics(s.reg),
		Drained: newOSRelease(log.With("component", compDetect)).drained,
	}
	if err := s.partitionStage(&stageCfg); err != nil { // roles.go
		return nil, err
	}
	s.stage = analysis.NewStage(stageCfg)
	if b != nil {
		s.registerBusMetrics(b)
	}

	var ih http.Handler
	if cfg.roles.ingest {
		maxBatch := int64(b.MaxBatchBytes())
		ih, err = ingest.NewHandler(ingest.Config{
			Workspace: api.WorkspaceFrom, Sources: store.Sources{Store: db, Max: cfg.IngestMaxSources}, Publisher: b, IDs: event.NewIDSource(), Now: time.Now,
			Logger: log.With("component", compIngest), Registerer: s.reg,
			MaxBodyBytes: int(cfg.ingestMaxBody), MaxLineBytes: int(cfg.ingestMaxLine), MaxFieldBytes: int(cfg.ingestMaxField),
			MaxBatchRecords: cfg.IngestBatchRecords, MaxBatchBytes: int(maxBatch), MaxInflightBytes: inflightUnder(cfg, memLimit),
			Key: api.KeyIDFrom, MaxInflightWorkspaceBytes: cfg.inflightWorkspace, MaxInflightKeyBytes: cfg.inflightKey,
			BodyTimeout: offIfZero(cfg.IngestBodyTimeout), MinBodyRate: offIfZero(cfg.bodyMinRate),
			Backlog: b, MaxLag: offIfZero(cfg.IngestMaxLag),
			MaxDecompressions: decompressions(cfg, memLimit),
		})
		if err != nil {
			return nil, err // "ingest: …"
		}
	}
	op := ingest.Operation()
	ingestOp := &op
	if ih == nil {
		ingestOp = nil
	}
	a, err := api.New(api.Config{
		Store: db, Logger: log.With("component", compAPI), Registry: s.reg, Version: version,
		Ingest: ih, IngestOperation: ingestOp, SourceHealth: s.sourceHealth, TierChanged: s.stage.ForgetTier,
		TrustedProxies: cfg.trustedProxies, AuthFailLimit: cfg.AuthFailLimit, AuthFailWindow: cfg.AuthFailWindow,
		MetricsKeyRequired: cfg.MetricsKey, Intel: s.feeds, GeoIP: enr.geoIPInfo,
		Assets: db, AssetsChanged: enr.AssetsChanged,
		SuppressionsChanged: s.stage.ForgetSuppressions, Automation: serverAutomation{s},
		OIDC:  cfg.oidc,
		Rules: s.ruleList, RulesChanged: s.stage.ForgetDisabledRules, TestRule: s.testRule,
		Ready: s.readyChecks(b, db), // roles.go
	})
	if err != nil {
		return nil, err // "api: …"
	}
	if cfg.roles.detect {
		stageCtx, stageCancel := context.WithCancel(context.Background())
		s.stageCancel, s.stageDone = stageCancel, make(chan error, 1)
		go func() { s.stageDone <- s.stage.Run(stageCtx) }()
	}

	mon, err := newHealth(cfg, db, s.reg, log.With("component", compHealth))
	if err != nil {
		return nil, err
	}
	s.mon.Store(mon)
	rlog := log.With("component", compReceiver)
	var rcvs []ingest.Receiver
	if cfg.roles.ingest {
		var streams map[[2]string][]*ingest.Counters
		if rcvs, streams, err = newReceivers(cfg, b, s.reg, rlog); err != nil {
			return nil, err
		}
		s.streams = streams
	}
	bgCtx, bgCancel := context.WithCancel(context.Background())
	s.bgCancel = bgCancel
	s.startRuleReload(bgCtx, rl) // polling for changed rule files (reload.go)
	// The tasks that run once in a deployment: in the process of every
	// role, or with detect in the one detect worker holding their lease
	// (roles.go).
	singletons := func(ctx context.Context) error {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); s.retention(ctx, log.With("component", compRetention)) }()
		// Incident correlation over the alert stream (incidents.go).
		if err := s.startIncidents(ctx, log); err != nil {
			return err
		}
		// Response automation and the block decisions' expiry (respond.go).
		if err := s.startRespond(ctx, log.With("component", compRespond)); err != nil {
			return err
		}
		// The feeds' stored indicators are matched from the start; then each
		// feed is fetched on its schedule.
		if err := s.feeds.Start(ctx); err != nil {
			return err
		}
		s.bg.Add(1)
		go func() { defer s.bg.Done(); <-ctx.Done(); s.feeds.Wait() }()
		startAssessment(ctx, &s.bg, s.store, cfg.classifier, log) // assess.go
		s.bg.Go(func() { _ = mon.Run(ctx) })
		return nil
	}
	if err := s.startRoles(bgCtx, singletons, log); err != nil { // roles.go
		return nil, err
	}
	if cfg.roles.detect {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); enr.follow(bgCtx, cfg.GeoIPReload, log.With("component", compDetect)) }()
		s.bg.Add(1)
		go func() { defer s.bg.Done(); enr.saveBaselines(bgCtx, baselineFlushEvery) }()
	}
	// Receivers: stopped, their last batches stored, before the bus closes.
	runReceivers(bgCtx, &s.bg, rcvs, rlog)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err // "listen tcp ADDR: …"
	}
	s.ln = ln
	s.api = a
	sso := ""
	if cfg.oidc != nil {
		sso = cfg.oidc.Name
	}
	dash, err := web.New(web.Config{API: a, Version: version, SSO: sso, Logger: log.With("component", compAPI)})
	if err != nil {
		return nil, err
	}
	var handler http.Handler = roleHandler(cfg.roles, dash) // roles.go
	if os.Getenv("VIGIL_PPROF") == "1" {
		handler = withPprof(handler)
	}
	handler = withSecurityHeaders(handler, cfg.TLSCert != "")
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.http.RegisterOnShutdown(a.CloseStreams) // live streams would hold Shutdown until its timeout
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate %s / key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
		s.tls = true
	}
	go func() {
		var err error
		if s.tls {
			err = s.http.ServeTLS(ln, "", "")
		} else {
			err = s.http.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	if exposedPlain(ln.Addr(), s.tls) {
		s.log.Warn("serving plain HTTP beyond loopback: API keys and events cross the network in clear; set tls-cert and tls-key, or listen on loopback behind a TLS proxy",
			"listen", ln.Addr().String())
	}
	s.log.Info("vigil serving", "url", scheme+"://"+ln.Addr().String(), "data_dir", cfg.DataDir, "store", cfg.Store, "bus", busMode(cfg), "formats", decode.Formats())
	ok = true
	return s, nil
}

// offIfZero maps a setting's 0, which turns a limit off, to the negative
// value that does so in ingest.Config (where 0 takes the default).
func offIfZero[T time.Duration | int64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

func busMode(cfg *Config) string {
	if cfg.NATSURL != "" {
		return "external " + cfg.NATSURL
	}
	return "embedded"
}

// decodeOptions gives the decoder options the config file sets per source
// (field mapping, field list).
func decodeOptions(cfg *Config) func(ws, src string) decode.Options {
	m := map[[2]string]decode.Options{}
	for _, sc := range cfg.Sources {
		if len(sc.Mapping) > 0 || len(sc.Fields) > 0 || sc.Layout != "" {
			m[[2]string{sc.Workspace, sc.Name}] = decode.Options{Mapping: sc.Mapping, Fields: sc.Fields, Layout: sc.Layout}
		}
	}
	if len(m) == 0 {
		return nil
	}
	return func(ws, src string) decode.Options { return m[[2]string{ws, src}] }
}

// provision creates the workspaces and sources the config file names. A
// workspace that exists takes the file's tier when it names one (audited
// as "config"); a new one without a tier is standard.
func provision(ctx context.Context, db store.Store, cfg *Config, log *slog.Logger) error {
	for _, w := range cfg.Workspaces {
		tier := w.Tier
		if tier == "" {
			tier = tenant.TierStandard
		}
		_, err := db.CreateWorkspace(ctx, w.Name, tier)
		if errors.Is(err, store.ErrConflict) && w.Tier != "" {
			var old tenant.Workspace
			if old, err = db.SetWorkspaceTier(ctx, w.Name, w.Tier, "config"); err == nil && old.Tier != w.Tier {
				log.Info("workspace tier set by the config file", "workspace", w.Name, "change", old.Tier+" -> "+w.Tier)
			}
		}
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("config file: %w", err)
		}
	}
	for _, sc := range cfg.Sources {
		if !decode.Known(sc.Format) {
			return fmt.Errorf("config source %q: unknown format %q (known: %v)", sc.Name, sc.Format, decode.Formats())
		}
		if sc.Layout != "" && sc.Format != "accesslog" && sc.Format != "auto" {
			return fmt.Errorf("config source %q: layout is for the accesslog format, not %s", sc.Name, sc.Format)
		}
		if len(sc.Mapping) > 0 || len(sc.Fields) > 0 || sc.Layout != "" {
			d, _ := decode.New(sc.Format)
			c, ok := d.(decode.Configurable)
			if !ok {
				return fmt.Errorf("config source %q: format %s takes no mapping or fields", sc.Name, sc.Format)
			}
			if err := c.Configure(decode.Options{Mapping: sc.Mapping, Fields: sc.Fields, Layout: sc.Layout}); err != nil {
				return fmt.Errorf("config source %q: %w", sc.Name, err)
			}
		}
		if _, err := db.Workspace(ctx, sc.Workspace); err != nil {
			return fmt.Errorf("config source %q: %w", sc.Name, err) // "workspace NAME: not found"
		}
		err := db.PutSource(ctx, tenant.Source{
			Workspace: sc.Workspace, Name: sc.Name, Format: sc.Format, TimeZone: sc.TimeZone,
			Logsource: event.Logsource{Product: sc.Product, Category: sc.Category, Service: sc.Service},
			Created:   time.Now().UTC(),
		})
		if err != nil {
			return fmt.Errorf("config source %q: %w", sc.Name, err)
		}
	}
	return nil
}

// alertChangeHorizon is how long the alert stream keeps a change no
// consumer acknowledged: a consumer down for longer misses it.
const alertChangeHorizon = 24 * time.Hour

// retention purges, hourly, the events received longer ago than the
// retention setting (not by their own time stamps; the store keeps the
// evidence of open alerts) and the quarantined records; and, on their own
// schedules, the audit log (audit-retention) and the ids of batches
// committed longer ago than replay-window; and the alert stream's changes
// every consumer acknowledged, or older than alertChangeHorizon.
func (s *server) retention(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if s.cfg.Retention > 0 {
			s.purgeEvents(ctx, log)
		}
		if s.cfg.AuditRetention > 0 {
			n, err := s.store.PurgeAudit(ctx, time.Now().Add(-s.cfg.AuditRetention))
			if err != nil && ctx.Err() == nil {
				log.Warn("audit log purge failed", "err", err)
			} else if n > 0 {
				log.Info("retention purged audit log lines", "lines", n)
			}
		}
		if n, err := s.store.PurgeIndicators(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("expired indicator purge failed", "err", err)
		} else if n > 0 {
			log.Info("retention purged expired or revoked indicators", "indicators", n)
		}
		if n, err := s.store.PurgeAlertChanges(ctx, time.Now().Add(-alertChangeHorizon)); err != nil && ctx.Err() == nil {
			log.Warn("alert stream purge failed", "err", err)
		} else if n > 0 {
			log.Info("retention purged alert stream changes", "changes", n)
		}
		if s.cfg.ReplayWindow > 0 {
			n, err := s.store.PurgeCommittedBatches(ctx, time.Now().Add(-s.cfg.ReplayWindow))
			if err != nil && ctx.Err() == nil {
				log.Warn("committed batch id purge failed", "err", err)
			} else if n > 0 {
				log.Info("retention forgot committed batch ids", "batches", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *server) purgeEvents(ctx context.Context, log *slog.Logger) {
	n, err := s.store.PurgeEvents(ctx, time.Now().Add(-s.cfg.Retention))
	if err != nil && ctx.Err() == nil {
		log.Warn("retention purge failed", "err", err)
	} else if n > 0 {
		log.Info("retention purged events", "events", n)
	}
	q, err := s.store.PurgeQuarantine(ctx, time.Now().Add(-s.cfg.Retention), s.cfg.QuarantineMax)
	if err != nil && ctx.Err() == nil {
		log.Warn("quarantine purge failed", "err", err)
	} else if q > 0 {
		log.Info("retention purged quarantined records", "records", q)
	}
}

// sourceHealth reports the health monitor's view of a workspace's sources
// for the API.
func (s *server) sourceHealth(ws string) map[string]api.SourceHealth {
	out := map[string]api.SourceHealth{}
	lag := s.detectionLag(context.Background())
	if m := s.mon.Load(); m != nil {
		for _, h := range m.Health(ws) {
			sh := api.SourceHealth{Rate: h.Rate, Silent: h.Silent}
			if h.Interval > 0 {
				sh.UsualInterval = h.Interval.String()
			}
			if d := lag(ws, h.Source); d > 0 {
				sh.DetectionLag = d.Round(time.Millisecond).String()
			}
			out[h.Source] = sh
		}
	}
	// Refusals show also for a source that never got through.
	for k, cs := range s.streams {
		if k[0] != ws {
			continue
		}
		sh := out[k[1]]
		for _, c := range cs {
			sh.RefusedConnections += int64(c.Refused())
		}
		out[k[1]] = sh
	}
	return out
}

// URL is the base URL the server answers on.
func (s *server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// shutdown stops taking requests, lets the detect stage drain what it has
// fetched and commit it, then closes bus and store.
func (s *server) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	// Receivers stop next, storing their last batches on the bus, so that
	// the detect stage can still drain them.
	if s.bgCancel != nil {
		s.bgCancel()
		s.bg.Wait()
		s.bgCancel = nil
	}
	if s.stageCancel != nil {
		s.stageCancel()
		select {
		case err := <-s.stageDone:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			errs = append(errs, errors.New("detect stage did not drain in time; unacknowledged batches replay at next start"))
		}
	}
	// The literal sets the rules in force built, for the next start (or
	// scan) of the same rules.
	if rs := s.rules.Load(); rs != nil && s.ruleCache != nil {
		if err := s.ruleCache.saveSets(rs.Engine); err != nil {
			s.log.Warn("literal sets not saved", "err", err)
		}
	}
	// What the baselines learnt from the drained batches, before the
	// store closes.
	if s.enrich != nil && s.store != nil {
		s.enrich.flushBaselines(ctx)
	}
	s.closeAll()
	s.log.Info("vigil stopped")
	return errors.Join(errs...)
}

func (s *server) closeAll() {
	if s.bgCancel != nil {
		s.bgCancel()
		s.bg.Wait()
	}
	if s.bus != nil {
		if err := s.bus.Close(); err != nil {
			s.log.Warn("bus close", "err", err)
		}
		s.bus = nil
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Warn("store close", "err", err)
		}
		s.store = nil
	}
}

// ruleList lists the rules in force for the API (GET /api/v1/rules).
func (s *server) ruleList() []api.RuleInfo {
	rs := s.rules.Load()
	if rs == nil {
		return nil
	}
	list := rs.List()
	out := make([]api.RuleInfo, len(list))
	for i, r := range list {
		out[i] = api.RuleInfo{ID: r.ID, Title: r.Title, Severity: r.Severity.String(), Tactics: r.Tactics, Correlation: r.Correlation}
	}
	return out
}

// testRule runs one rule of those in force over sample records
// (POST /api/v1/rules/{id}/test).
func (s *server) testRule(_ context.Context, ws, id, format string, records [][]byte) (api.RuleTestResult, error) {
	rs := s.rules.Load()
	if rs == nil {
		return api.RuleTestResult{}, fmt.Errorf("rule %s: no rules loaded: %w", id, store.ErrNotFound)
	}
	res, err := analysis.TestRule(rs, id, format, records, tenant.Source{Workspace: ws})
	switch {
	case errors.Is(err, analysis.ErrNoRule):
		return api.RuleTestResult{}, fmt.Errorf("%w: %w", err, store.ErrNotFound)
	case errors.Is(err, analysis.ErrCorrelationTest):
		return api.RuleTestResult{}, fmt.Errorf("rule %s: %w: %w", id, err, store.ErrInvalid)
	case err != nil:
		return api.RuleTestResult{}, err
	}
	out := api.RuleTestResult{Records: res.Records, Matched: res.Matched}
	for _, sg := range res.Signals {
		out.Signals = append(out.Signals, api.RuleTestSignal{Title: sg.Rule.Title, Severity: sg.Severity.String(),
			Entities: sg.Entities, Line: sg.Evidence.Line})
	}
	for _, r := range res.Rejected {
		out.Rejected = append(out.Rejected, api.RuleTestReject{Line: r.Line, Reason: r.Reason})
	}
	return out, nil
}
