package main

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/respond"
	"github.com/vigil-sec/vigil/rule"
)

// Config is every setting of `vigil serve` and `vigil demo`. A setting comes
// from a flag, else the environment (VIGIL_ + the name in upper case with _
// for -), else the YAML config file, else its default.
type Config struct {
	Listen    string   `koanf:"listen"`
	DataDir   string   `koanf:"data-dir"`
	TLSCert   string   `koanf:"tls-cert"`
	TLSKey    string   `koanf:"tls-key"`
	LogLevel  string   `koanf:"log-level"`
	LogFormat string   `koanf:"log-format"`
	Rules     []string `koanf:"rules"`
	NoBuiltin bool     `koanf:"no-builtin-rules"`
	// RulesStrict refuses rules that do not load (docs/rules.md).
	RulesStrict bool `koanf:"rules-strict"`

	// Rule selection, placeholders, taxonomy and reloading (docs/rules.md).
	RuleStatus       []string      `koanf:"rule-status"`
	RulesDisabled    []string      `koanf:"rules-disabled"`
	RulePlaceholders string        `koanf:"rule-placeholders"`
	Taxonomy         string        `koanf:"taxonomy"`
	RulesReload      time.Duration `koanf:"rules-reload"`
	RuleMaxValues    int           `koanf:"rule-max-values"`
	RuleMaxFile      string        `koanf:"rule-max-file"`
	// Placeholders is set in the config file only: name → values.
	Placeholders map[string]any `koanf:"placeholders"`

	// Role is what this process runs (roles.go, docs/deployment.md);
	// CorrelationPartitions and PartitionLease set the detect workers'
	// partitioned correlation.
	Role                  []string      `koanf:"role"`
	CorrelationPartitions int           `koanf:"correlation-partitions"`
	PartitionLease        time.Duration `koanf:"partition-lease"`
	roles                 roles

	NATSURL         string        `koanf:"nats-url"`
	BusSyncInterval time.Duration `koanf:"bus-sync-interval"`
	BusMaxBytes     string        `koanf:"bus-max-bytes"`
	BusMaxMessage   string        `koanf:"bus-max-message"`
	// An external NATS's credentials, TLS, and the stream's replicas,
	// placement and limits (natsopts.go, docs/deployment.md#nats).
	NATSUser            string        `koanf:"nats-user"`
	NATSPasswordFile    string        `koanf:"nats-password-file"`
	NATSTokenFile       string        `koanf:"nats-token-file"`
	NATSNKeyFile        string        `koanf:"nats-nkey-file"`
	NATSCredsFile       string        `koanf:"nats-creds-file"`
	NATSTLSCA           string        `koanf:"nats-tls-ca"`
	NATSTLSCert         string        `koanf:"nats-tls-cert"`
	NATSTLSKey          string        `koanf:"nats-tls-key"`
	NATSTLSServerName   string        `koanf:"nats-tls-server-name"`
	BusReplicas         int           `koanf:"bus-replicas"`
	BusPlacementCluster string        `koanf:"bus-placement-cluster"`
	BusPlacementTags    []string      `koanf:"bus-placement-tags"`
	BusMaxAge           time.Duration `koanf:"bus-max-age"`
	BusDiscard          string        `koanf:"bus-discard"`
	BusAckWait          time.Duration `koanf:"bus-ack-wait"`
	BusMaxAckPending    int           `koanf:"bus-max-ack-pending"`
	natsAuth            bus.Auth

	// The store: SQLite in the data dir (default) or PostgreSQL
	// (storeconfig.go, docs/deployment.md#postgresql).
	Store             string `koanf:"store"`
	StoreURL          string `koanf:"store-url"`
	StoreURLFile      string `koanf:"store-url-file"`
	StorePasswordFile string `koanf:"store-password-file"`
	StoreSchema       string `koanf:"store-schema"`
	StoreMaxConns     int    `koanf:"store-max-conns"`
	storeURL          string // store-url, or the first line of store-url-file

	Retention     time.Duration `koanf:"retention"`
	Compression   string        `koanf:"store-compression"`
	QuarantineMax int           `koanf:"quarantine-max"`
	DedupWindow   time.Duration `koanf:"dedup-window"`
	Workers       int           `koanf:"workers"`
	// ReplayWindow keeps the ids of committed batches (store.md#replays).
	ReplayWindow time.Duration `koanf:"replay-window"`

	IngestMaxBody      string `koanf:"ingest-max-body"`
	IngestMaxLine      string `koanf:"ingest-max-line"`
	IngestMaxField     string `koanf:"ingest-max-field"`
	IngestBatchRecords int    `koanf:"ingest-batch-records"`
	IngestMaxInflight  string `koanf:"ingest-max-inflight"`
	// Shares of ingest-max-inflight, and how slow a body may be (issue 9).
	IngestInflightWorkspace string        `koanf:"ingest-max-inflight-workspace"`
	IngestInflightKey       string        `koanf:"ingest-max-inflight-key"`
	IngestBodyTimeout       time.Duration `koanf:"ingest-body-timeout"`
	IngestBodyMinRate       string        `koanf:"ingest-body-min-rate"`
	IngestMaxLag            time.Duration `koanf:"ingest-max-lag"`
	IngestMaxSources        int           `koanf:"ingest-max-sources"`

	// MemoryLimit is the process's memory budget (memory.go,
	// docs/operations.md).
	MemoryLimit string `koanf:"memory-limit"`

	// Authentication and the audit log (docs/api.md#authentication).
	TrustedProxies []string      `koanf:"trusted-proxies"`
	AuthFailLimit  int           `koanf:"auth-fail-limit"`
	AuthFailWindow time.Duration `koanf:"auth-fail-window"`
	AuditRetention time.Duration `koanf:"audit-retention"`
	MetricsKey     bool          `koanf:"metrics-key-required"`

	// Single sign-on with OpenID Connect (docs/dashboard-auth.md).
	OIDCIssuer           string   `koanf:"oidc-issuer"`
	OIDCClientID         string   `koanf:"oidc-client-id"`
	OIDCClientSecret     string   `koanf:"oidc-client-secret"`
	OIDCClientSecretFile string   `koanf:"oidc-client-secret-file"`
	OIDCRedirectURL      string   `koanf:"oidc-redirect-url"`
	OIDCScopes           []string `koanf:"oidc-scopes"`
	OIDCGroupsClaim      string   `koanf:"oidc-groups-claim"`
	OIDCUserClaim        string   `koanf:"oidc-user-claim"`
	OIDCRoles            []string `koanf:"oidc-roles"`
	OIDCName             string   `koanf:"oidc-name"`
	OIDCAdoptLocalUsers  bool     `koanf:"oidc-adopt-local-users"`
	oidc                 *api.OIDCConfig

	// Enrichment (docs/enrichment.md).
	GeoIPDatabases []string      `koanf:"geoip-databases"`
	GeoIPReload    time.Duration `koanf:"geoip-reload"`
	AssetsFile     string        `koanf:"assets-file"`
	// BaselineLearning is the behavioural baselines' learning period
	// (a workspace may set its own).
	BaselineLearning time.Duration `koanf:"baseline-learning"`

	HealthInterval time.Duration `koanf:"health-interval"`
	SilenceFactor  int           `koanf:"silence-factor"`
	SilenceFloor   time.Duration `koanf:"silence-floor"`

	// Sources and Workspaces are set in the config file only: provisioned
	// at start so that ingest can name them.
	Workspaces []WorkspaceConfig `koanf:"workspaces"`
	Sources    []SourceConfig    `koanf:"sources"`
	// Feeds are threat-intelligence feeds, set in the config file only
	// (intel.go, docs/intel.md#feeds).
	Feeds             []FeedConfig  `koanf:"feeds"`
	IntelFetchTimeout time.Duration `koanf:"intel-fetch-timeout"`
	IntelMaxFeedSize  string        `koanf:"intel-max-feed-size"`
	// Respond is response automation, set in the config file only
	// (respond.go, docs/response.md).
	Respond respond.Config `koanf:"respond"`

	// Incident correlation (incidents.go, docs/incidents.md#correlation).
	IncidentWindow          time.Duration `koanf:"incident-window"`
	IncidentReopenWindow    time.Duration `koanf:"incident-reopen-window"`
	IncidentSharedAddresses []string      `koanf:"incident-shared-addresses"`
	IncidentCommonAccounts  []string      `koanf:"incident-common-accounts"`

	// The assessment's data sensitivity rules (config file only) and
	// default label (assess.go, docs/assessment.md).
	Sensitivity        []sensitivityRuleConfig `koanf:"sensitivity"`
	SensitivityDefault string                  `koanf:"sensitivity-default"`
	classifier         *incident.Classifier

	// parsed rule settings: the placeholders of both sources merged, the
	// taxonomy (default unless a file is set)
	placeholders map[string][]string
	taxonomy     *rule.Taxonomy

	// parsed trusted-proxies
	trustedProxies []netip.Prefix

	// parsed sizes
	busMaxBytes, busMaxMessage                             int64
	ingestMaxBody, ingestMaxLine, ingestMaxField, inflight int64
	inflightWorkspace, inflightKey, bodyMinRate            int64
	memoryLimit, ruleMaxFile                               int64
	intelMaxFeedSize                                       int64
}

// WorkspaceConfig provisions a workspace.
type WorkspaceConfig struct {
	Name string `koanf:"name"`
	// Tier is free or standard; it applies at start to a workspace that
	// exists too. Empty: standard for a new workspace, unchanged for one
	// that exists.
	Tier string `koanf:"tier"`
	// BaselineLearning is the workspace's own learning period of the
	// behavioural baselines; 0: the baseline-learning setting.
	BaselineLearning time.Duration `koanf:"baseline-learning"`
}

// SourceConfig provisions a named source of a workspace.
type SourceConfig struct {
	Workspace string `koanf:"workspace"`
	Name      string `koanf:"name"`
	Format    string `koanf:"format"`
	Product   string `koanf:"product"`
	Category  string `koanf:"category"`
	Service   string `koanf:"service"`
	TimeZone  string `koanf:"timezone"`
	// Mapping maps a source field to a common (ECS) field for the json
	// format; Fields names a flow log's columns (vpcflow custom formats).
	Mapping map[string]string `koanf:"mapping"`
	Fields  []string          `koanf:"fields"`
	// Layout is an access log's layout for the accesslog format: a
	// named one (combined, vhost_combined, main…), an Apache LogFormat or
	// an nginx log_format string.
	Layout string `koanf:"layout"`
	// Receivers feed the source from syslog listeners or tailed files
	// (docs/sources.md).
	Receivers []ReceiverConfig `koanf:"receivers"`
	// SilentAfter overrides silence-floor for this source; NoSilenceAlert
	// turns its silence alert off.
	SilentAfter    time.Duration `koanf:"silent-after"`
	NoSilenceAlert bool          `koanf:"no-silence-alert"`
}

type setting struct {
	name, def, usage string
	kind             byte // s string, d duration, i int, b bool, l list
}

// settings documents every flag; `vigil serve --help` prints them with
// their environment names.
var settings = []setting{
	{"listen", "127.0.0.1:8080", "address to serve the API (/api/v1) and the dashboard (/) on; beyond loopback, set tls-cert and tls-key (or put a TLS proxy in front): keys and events would cross the network in clear, and a warning is logged", 's'},
	{"data-dir", "vigil-data", "directory for the bus file store and the database (created for the owner only)", 's'},
	{"tls-cert", "", "TLS certificate file (PEM); with tls-key, serve HTTPS", 's'},
	{"tls-key", "", "TLS private key file (PEM)", 's'},
	{"log-level", "info", "log level: debug, info, warn, error", 's'},
	{"log-format", "text", "log format: text or json", 's'},
	{"rules", "", "rule files or directories to load besides the built-in rules (repeatable, comma-separated in the environment)", 'l'},
	{"no-builtin-rules", "false", "do not load vigil's built-in rules", 'b'},
	{"rules-strict", "false", "refuse to start when a rule, correlation rule or filter does not load, and keep the running rules when a reload has one (a rules path that is missing or holds no rules always stops the start)", 'b'},
	{"rule-status", "stable,test,experimental", "rule statuses to run (of stable, test, experimental, deprecated, unsupported; rules without a status always run)", 'l'},
	{"rules-disabled", "", "ids of rules not to run (repeatable, comma-separated)", 'l'},
	{"rule-placeholders", "", "YAML file of placeholder values for the expand modifier (name: [values]); adds to the config file's placeholders", 's'},
	{"taxonomy", "", "YAML file of logsource mappings added to the default taxonomy (see docs/rules.md)", 's'},
	{"rules-reload", "5s", "how often serve checks rule files for changes and reloads them; 0 turns reloading off", 'd'},
	{"rule-max-values", "100000", "most values one rule may have, counted after placeholders and modifiers expand them; a larger rule is not loaded", 'i'},
	{"rule-max-file", "8MiB", "largest rule file; a larger one is not read", 's'},
	{"nats-url", "", "external NATS JetStream URLs, comma-separated (e.g. nats://nats-1:4222,nats://nats-2:4222); empty runs an embedded server in the data dir", 's'},
	{"nats-user", "", "user name at the external NATS; its password comes from nats-password-file or VIGIL_NATS_PASSWORD", 's'},
	{"nats-password-file", "", "file holding the nats-user's password (its first line)", 's'},
	{"nats-token-file", "", "file holding a NATS authentication token (its first line); or set VIGIL_NATS_TOKEN", 's'},
	{"nats-nkey-file", "", "file holding an NKey user seed (SU...) to authenticate to NATS with", 's'},
	{"nats-creds-file", "", "NATS credentials file (user JWT and NKey seed, as nsc writes it)", 's'},
	{"nats-tls-ca", "", "PEM file of the CA certificates that sign the NATS servers' (empty: the system's roots); setting any nats-tls-* turns TLS on", 's'},
	{"nats-tls-cert", "", "client certificate (PEM) for NATS servers that verify clients, with nats-tls-key", 's'},
	{"nats-tls-key", "", "private key (PEM) of nats-tls-cert", 's'},
	{"nats-tls-server-name", "", "name the NATS servers' certificates carry, when the URLs name other hosts or addresses", 's'},
	{"bus-replicas", "1", "copies of the bus stream and consumer on an external JetStream cluster (1 to 5; 3 survives the loss of a node)", 'i'},
	{"bus-placement-cluster", "", "cluster of a NATS super-cluster to put the bus stream on", 's'},
	{"bus-placement-tags", "", "server tags the bus stream's servers must all have (repeatable, comma-separated)", 'l'},
	{"bus-max-age", "0", "drop batches older than this from the bus, detected or not (0: keep them until detected)", 'd'},
	{"bus-discard", "new", "what a full bus does: new refuses new batches (ingest answers 503), old drops the oldest batches not yet detected", 's'},
	{"bus-ack-wait", "1m", "how long a batch fetched by detection may stay unacknowledged before it is delivered again", 'd'},
	{"bus-max-ack-pending", "0", "batches fetched and not yet acknowledged across all detect processes (0: the server's default, 1000; -1: no limit)", 'i'},
	{"role", "all", "what this process runs: ingest (HTTP ingest and receivers), detect (the detect stage, correlation, incidents, assessment, response, feeds, retention), api (API and dashboard), or all; a list runs several; detect without all correlates by partition with the other detect workers of the store (docs/deployment.md)", 'l'},
	{"correlation-partitions", "16", "partitions of correlation state shared out among the detect workers (role detect without all); every worker of a store must use the same count (a new count takes over once the old count's workers have stopped)", 'i'},
	{"partition-lease", "15s", "how long a detect worker's lease on a correlation partition or the once-only tasks lasts unrenewed: how soon another worker takes over from a dead one", 'd'},
	{"bus-sync-interval", "2m", "how often the embedded bus fsyncs its file store; 0 syncs every write (see docs/bus.md for what an acknowledgement guarantees)", 'd'},
	{"bus-max-bytes", "4GiB", "size limit of the bus stream; ingest answers 503 when it is full", 's'},
	{"bus-max-message", "8MiB", "largest bus message (one batch of records)", 's'},
	{"store", "sqlite", "the store: sqlite (vigil.db in the data dir) or postgres (a PostgreSQL database several vigil processes share; see store-url)", 's'},
	{"store-url", "", "PostgreSQL URL or key=value DSN of store postgres (postgres://USER@HOST:5432/DB?sslmode=verify-full&sslrootcert=FILE); what it leaves out comes from the standard PG* environment variables (PGHOST, PGUSER, PGPASSWORD, PGSSLMODE…); prefer store-url-file or store-password-file for a password", 's'},
	{"store-url-file", "", "file whose first line is store-url, instead of store-url (a secret mounted as a file)", 's'},
	{"store-password-file", "", "file whose first line is the PostgreSQL password; it overrides the URL's and PGPASSWORD", 's'},
	{"store-schema", "", "PostgreSQL schema of vigil's tables, made if missing (lowercase letters, digits, _); empty: the connection's search_path (public)", 's'},
	{"store-max-conns", "10", "most connections to PostgreSQL this process opens", 'i'},
	{"retention", "720h", "how long events and quarantined records are kept (alerts are kept)", 'd'},
	{"store-compression", "zstd", "compression of stored event blocks: zstd (smallest) or s2 (about a third of the CPU, 1.5x the size)", 's'},
	{"quarantine-max", "100000", "quarantined records kept per workspace, newest first (0: no cap)", 'i'},
	{"dedup-window", "24h", "a signal joins the open alert of its key last seen within this window", 'd'},
	{"workers", "0", "detect workers (0: one per CPU)", 'i'},
	{"replay-window", "168h", "how long the ids of committed batches are kept, whatever retention does, so that a batch the bus delivers again after a crash is not stored twice; longer than any outage", 'd'},
	{"ingest-max-body", "64MiB", "largest ingest request body, after decompression", 's'},
	{"ingest-max-line", "1MiB", "largest record (line) in an ingest request", 's'},
	{"ingest-max-field", "256KiB", "largest JSON string value in a record", 's'},
	{"ingest-batch-records", "1000", "records per bus batch", 'i'},
	{"ingest-max-inflight", "256MiB", "bytes of ingest requests in flight before ingest answers 429", 's'},
	{"ingest-max-inflight-workspace", "0", "share of ingest-max-inflight one workspace may hold (0: half of it, and at least ingest-max-body)", 's'},
	{"ingest-max-inflight-key", "0", "share of its workspace's in-flight bytes one API key may hold (0: half of the workspace's, and at least ingest-max-body)", 's'},
	{"ingest-body-timeout", "10s", "how long an ingest body may take beyond what ingest-body-min-rate allows for what it has sent; a body that stalls or trickles is cut then (408); 0 turns the timeout off", 'd'},
	{"ingest-body-min-rate", "32KiB", "bytes a second an ingest body is given time for, beyond ingest-body-timeout; 0: ingest-body-timeout bounds the whole body", 's'},
	{"ingest-max-lag", "2m", "ingest answers 503 with Retry-After while the oldest batch not yet detected has waited longer than this; 0 turns the bound off", 'd'},
	{"memory-limit", "", "memory budget of the process: nine tenths of it become the Go runtime's soft limit (GOMEMLIMIT); ingest keeps at most a quarter of it in flight and inflates fewer gzip bodies at once; empty or 0: none; GOMEMLIMIT in the environment wins", 's'},
	{"trusted-proxies", "", "CIDRs of reverse proxies whose X-Forwarded-For names the client (the right-most address not in these); empty: X-Forwarded-For is ignored", 'l'},
	{"auth-fail-limit", "20", "failed authentications of one client address in auth-fail-window before it is answered 429 until the window ends (0: no limit)", 'i'},
	{"auth-fail-window", "1m", "the window of auth-fail-limit; repeated refusals of one address and reason share an audit line a window", 'd'},
	{"metrics-key-required", "false", "serve /metrics only to keys of scope metrics (made with vigil keys create --scope metrics); off, /metrics is open like /healthz", 'b'},
	{"oidc-issuer", "", "OpenID Connect provider's issuer URL; set, the sign-in page offers single sign-on (with oidc-client-id, oidc-redirect-url and oidc-roles)", 's'},
	{"oidc-client-id", "", "client id of vigil at the OpenID Connect provider", 's'},
	{"oidc-client-secret", "", "client secret of vigil at the provider; prefer oidc-client-secret-file or the environment over the config file", 's'},
	{"oidc-client-secret-file", "", "file holding the client secret (its first line), instead of oidc-client-secret", 's'},
	{"oidc-redirect-url", "", "vigil's callback as the provider knows it: https://HOST/api/v1/session/oidc/callback", 's'},
	{"oidc-scopes", "openid,profile,email", "scopes asked of the provider (add groups when the provider only sends groups for that scope)", 'l'},
	{"oidc-groups-claim", "groups", "ID token claim listing the user's groups", 's'},
	{"oidc-user-claim", "preferred_username", "ID token claim naming the vigil user (a claim the provider controls, not one users edit; email is taken only when verified)", 's'},
	{"oidc-roles", "", "GROUP=WORKSPACE:ROLE items (role reader, responder or admin): what the provider's groups give; a user in no listed group is not signed in (repeatable, comma-separated)", 'l'},
	{"oidc-name", "SSO", "the provider's name on the sign-in button (\"Sign in with NAME\") and in the audit log", 's'},
	{"oidc-adopt-local-users", "false", "let a provider's user sign in as the local user (with a password) of the same name, which then loses its password; off, such sign-ins are refused", 'b'},
	{"audit-retention", "2160h", "how long audit log lines are kept, purged hourly (0: for ever)", 'd'},
	{"ingest-max-sources", "1000", "sources a workspace may have for ingest to create one on first use; past it ingest answers 422 and an admin makes sources (0: no cap)", 'i'},
	{"geoip-databases", "embedded", "GeoIP .mmdb files (country, city or ASN layouts; the first that knows a part gives it), or embedded for the built-in country database, or none; alerts carry the origin they give", 'l'},
	{"geoip-reload", "1m", "how often serve checks the GeoIP files for changes and reloads them; 0 turns reloading off", 'd'},
	{"assets-file", "", "asset inventory file (YAML or JSON: hosts, networks, accounts, databases, cloud resources with criticality, owner, environment, tags) that events and alerts are matched against", 's'},
	{"baseline-learning", "1440h", "learning period of the behavioural baselines (standard tier): a model flags no first-seen or rare value until it has seen this much of a workspace's events (event time); a workspace of the config file may set its own; 0: flag from the start", 'd'},
	{"health-interval", "30s", "how often source health is checked", 'd'},
	{"silence-factor", "10", "a source is silent after this many times its usual interval without a record (and at least silence-floor)", 'i'},
	{"silence-floor", "15m", "the shortest silence that raises a source-fell-silent alert", 'd'},
	{"intel-fetch-timeout", "2m", "how long one fetch of a threat-intelligence feed may take, reading and parsing included", 'd'},
	{"sensitivity-default", "internal", "sensitivity label of data that no sensitivity rule of the config file names: public, internal, confidential or restricted (docs/assessment.md)", 's'},
	{"intel-max-feed-size", "256MiB", "largest threat-intelligence feed document, after decompression; a larger one fails the fetch and the feed keeps its indicators", 's'},
	{"incident-window", "24h", "an alert joins an open incident it shares entities with when their activity (event time) is at most this far apart", 'd'},
	{"incident-reopen-window", "72h", "an alert that matches an incident closed at most this long ago reopens it (into assess); after that it starts a new incident", 'd'},
	{"incident-shared-addresses", "", "addresses and CIDRs many people share (NAT, proxies, gateways): weak identifiers that alone do not put alerts in one incident (repeatable, comma-separated)", 'l'},
	{"incident-common-accounts", "", "accounts many people or attacks share (root, admin…), weak identifiers; empty: the built-in list (docs/incidents.md), a list replaces it", 'l'},
}

// addSettingFlags registers every setting on fs.
func addSettingFlags(fs *pflag.FlagSet) {
	usages := settingUsages()
	for i, s := range settings {
		if fs.Lookup(s.name) != nil {
			continue // the command's own flag of that name (users create --role)
		}
		usage := usages[i]
		switch s.kind {
		case 's':
			fs.String(s.name, s.def, usage)
		case 'd':
			d, _ := time.ParseDuration(s.def)
			fs.Duration(s.name, d, usage)
		case 'i':
			n, _ := strconv.Atoi(s.def)
			fs.Int(s.name, n, usage)
		case 'b':
			fs.Bool(s.name, s.def == "true", usage)
		case 'l':
			fs.StringSlice(s.name, splitList(s.def), usage)
		}
		_ = fs.SetAnnotation(s.name, settingFlag, []string{"true"})
	}
	fs.StringP("config", "c", "", "YAML config file (env VIGIL_CONFIG); see docs/configuration.md")
}

// settingUsages are the settings' flag usages, made once: some thirty
// commands take the settings as flags, and every start builds them all.
var settingUsages = sync.OnceValue(func() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.usage + " (env " + envName(s.name) + ")"
	}
	return out
})

// settingFlag marks the flags that are settings.
const settingFlag = "vigil-setting"

func envName(name string) string {
	return "VIGIL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// loadConfig merges file, environment and flags, in rising precedence.
func loadConfig(fs *pflag.FlagSet) (*Config, error) {
	k := koanf.New(".")
	path, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if p := os.Getenv("VIGIL_CONFIG"); p != "" {
			path = p
		}
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	known := map[string]setting{}
	for _, s := range settings {
		known[s.name] = s
	}
	err := k.Load(env.Provider(".", env.Opt{
		Prefix: "VIGIL_",
		TransformFunc: func(key, v string) (string, any) {
			name := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(key, "VIGIL_")), "_", "-")
			s, ok := known[name]
			if !ok {
				return "", nil // VIGIL_CONFIG and unknown variables are not settings
			}
			if s.kind == 'l' {
				return name, splitList(v)
			}
			return name, v
		},
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	// Only the settings' flags are settings: a command's own flags
	// (--workspace, --tier, --help…) are not.
	sfs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := known[f.Name]; ok && f.Annotations[settingFlag] != nil {
			sfs.AddFlag(f)
		}
	})
	if err := k.Load(posflag.Provider(sfs, ".", k), nil); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	for _, key := range k.Keys() {
		top := strings.SplitN(key, ".", 2)[0]
		if _, ok := known[top]; !ok && top != "sources" && top != "workspaces" && top != "placeholders" && top != "feeds" && top != "respond" && top != "sensitivity" {
			return nil, fmt.Errorf("unknown setting %q (known: %s)", top, strings.Join(settingNames(), ", "))
		}
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf", FlatPaths: false}); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	for _, sz := range []struct {
		name string
		in   string
		out  *int64
	}{
		{"bus-max-bytes", c.BusMaxBytes, &c.busMaxBytes},
		{"bus-max-message", c.BusMaxMessage, &c.busMaxMessage},
		{"ingest-max-body", c.IngestMaxBody, &c.ingestMaxBody},
		{"ingest-max-line", c.IngestMaxLine, &c.ingestMaxLine},
		{"ingest-max-field", c.IngestMaxField, &c.ingestMaxField},
		{"ingest-max-inflight", c.IngestMaxInflight, &c.inflight},
		{"ingest-max-inflight-workspace", c.IngestInflightWorkspace, &c.inflightWorkspace},
		{"ingest-max-inflight-key", c.IngestInflightKey, &c.inflightKey},
		{"ingest-body-min-rate", c.IngestBodyMinRate, &c.bodyMinRate},
		{"memory-limit", c.MemoryLimit, &c.memoryLimit},
		{"rule-max-file", c.RuleMaxFile, &c.ruleMaxFile},
		{"intel-max-feed-size", c.IntelMaxFeedSize, &c.intelMaxFeedSize},
	} {
		if sz.name == "memory-limit" && strings.TrimSpace(sz.in) == "" {
			continue // none
		}
		n, err := parseSize(sz.in)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", sz.name, err)
		}
		*sz.out = n
	}
	var rules []string
	for _, r := range c.Rules {
		rules = append(rules, splitList(r)...)
	}
	c.Rules = rules
	if err := c.parseRuleSettings(); err != nil {
		return nil, err
	}
	if err := c.parseSensitivity(); err != nil {
		return nil, err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return nil, fmt.Errorf("setting log-format: %q is neither text nor json", c.LogFormat)
	}
	if c.trustedProxies, err = api.ParseCIDRs(splitListAll(c.TrustedProxies)); err != nil {
		return nil, fmt.Errorf("setting trusted-proxies: %w", err)
	}
	if _, err := c.incidentConfig(); err != nil {
		return nil, err
	}
	if err := c.Respond.Check(); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	if c.oidc, err = c.oidcConfig(); err != nil {
		return nil, err
	}
	if err := c.parseNATS(); err != nil {
		return nil, err
	}
	if c.roles, err = parseServeRoles(c.Role); err != nil {
		return nil, err
	}
	if c.CorrelationPartitions < 1 || c.CorrelationPartitions > 4096 {
		return nil, fmt.Errorf("setting correlation-partitions: %d is not between 1 and 4096", c.CorrelationPartitions)
	}
	if c.PartitionLease < time.Second {
		return nil, fmt.Errorf("setting partition-lease: %s is shorter than 1s", c.PartitionLease)
	}
	if err := c.parseStoreSettings(); err != nil {
		return nil, err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, fmt.Errorf("settings tls-cert and tls-key go together")
	}
	return &c, nil
}

func settingNames() []string {
	var n []string
	for _, s := range settings {
		n = append(n, s.name)
	}
	sort.Strings(n)
	return n
}

// splitListAll splits each of a list's items at commas (the config file
// may give one string).
func splitListAll(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, splitList(v)...)
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSize reads sizes like 512, 64KiB, 8MiB, 4GiB (also KB, MB, GB as
// powers of 1000).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (KiB, MiB, GiB)", s)
	}
	return n * mult, nil
}

// oidcConfig reads the single sign-on settings: nil when oidc-issuer is
// not set.
func (c *Config) oidcConfig() (*api.OIDCConfig, error) {
	if c.OIDCIssuer == "" {
		return nil, nil
	}
	secret := c.OIDCClientSecret
	if c.OIDCClientSecretFile != "" {
		if secret != "" {
			return nil, fmt.Errorf("settings oidc-client-secret and oidc-client-secret-file: set one, not both")
		}
		b, err := os.ReadFile(c.OIDCClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("setting oidc-client-secret-file: %w", err)
		}
		secret, _, _ = strings.Cut(string(b), "\n")
		secret = strings.TrimSpace(secret)
	}
	roles, err := api.ParseOIDCRoles(splitListAll(c.OIDCRoles))
	if err != nil {
		return nil, fmt.Errorf("setting oidc-roles: %w", err)
	}
	var missing []string
	for _, s := range []struct{ name, v string }{{"oidc-client-id", c.OIDCClientID}, {"oidc-redirect-url", c.OIDCRedirectURL}} {
		if s.v == "" {
			missing = append(missing, s.name)
		}
	}
	if len(roles) == 0 {
		missing = append(missing, "oidc-roles")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("setting oidc-issuer needs %s too", strings.Join(missing, ", "))
	}
	return &api.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: secret, RedirectURL: c.OIDCRedirectURL,
		Scopes: splitListAll(c.OIDCScopes), GroupsClaim: c.OIDCGroupsClaim, UserClaim: c.OIDCUserClaim, Roles: roles,
		Name: c.OIDCName, AdoptLocalUsers: c.OIDCAdoptLocalUsers}, nil
}
