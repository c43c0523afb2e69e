package main

// Log components: every line `vigil serve` logs carries one of these as its
// component attribute, set once where the subsystem's logger is wired
// (startServer). docs/operations.md lists them; TestLogComponentsDocumented
// keeps the two the same.
const (
	compServer      = "server"      // start, stop, the HTTP listener
	compRules       = "rules"       // rule loading and reloading
	compIngest      = "ingest"      // HTTP ingest
	compReceiver    = "receiver"    // syslog listeners and tailed files
	compBus         = "bus"         // the NATS JetStream bus
	compDetect      = "detect"      // the detect stage
	compStore       = "store"       // the SQLite store
	compAPI         = "api"         // the HTTP API
	compHealth      = "health"      // source health
	compRetention   = "retention"   // purging what is past retention
	compIntel       = "intel"       // threat-intelligence feeds
	compIncidents   = "incidents"   // incident correlation and the incident stream's purge
	compAlertStream = "alertstream" // delivery of the alert stream to incident correlation
	compRespond     = "respond"     // automation rules, playbooks, notifications, block decisions' expiry
)

var logComponents = []string{compServer, compRules, compIngest, compReceiver, compBus, compDetect, compStore, compAPI, compHealth, compRetention, compIntel, compIncidents, compAlertStream, compRespond}
