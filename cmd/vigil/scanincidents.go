package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
)

// addScanIncidentFlags adds the flags of `vigil scan --incidents` (the
// correlation and sensitivity settings the server reads from its
// configuration) to scan, and checks them before the scan starts rather
// than after it.
func addScanIncidentFlags(scan *cobra.Command) {
	scan.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if on, _ := cmd.Flags().GetBool("incidents"); !on {
			return nil
		}
		if _, err := scanCorrelationConfig(cmd.Flags()); err != nil {
			return err
		}
		_, err := scanClassifier(cmd.Flags())
		return err
	}
	f := scan.Flags()
	f.Bool("incidents", false, "group the alerts into incidents (by shared entities, as the server does) and print the incidents, each with its alerts and assessment, instead of the alerts")
	f.Duration("incident-window", incident.DefaultWindow, "with --incidents, how close in event time an alert's activity must be to an incident's to join it")
	f.StringSlice("incident-shared-addresses", nil, "with --incidents, addresses or CIDR ranges shared by many (NAT gateways, proxies): weak identifiers that alone join nothing (repeatable)")
	f.StringSlice("incident-common-accounts", nil, "with --incidents, account names many people or attacks share, replacing the built-in list (root, admin, sa…) when given: weak identifiers (repeatable)")
	f.String("sensitivity", "", "with --incidents, a YAML file whose sensitivity list (and sensitivity-default) label the data the incidents touched, as in the config file; default: the built-in rules")
	f.String("sensitivity-default", string(incident.Internal), "with --incidents, the label of data no sensitivity rule names: public, internal, confidential or restricted")
}

// scanIncident is an incident of an offline scan: the incident, its alerts
// (as `vigil scan -o json` prints them) and its timeline.
type scanIncident struct {
	incident.Incident
	Alerts   []*alert.Alert           `json:"alerts"`
	Timeline []incident.TimelineEntry `json:"timeline"`
}

// printScanResult prints the scan's alerts, or with --incidents the
// incidents they form.
func printScanResult(cmd *cobra.Command, output, format string, alerts []*alert.Alert) error {
	f := cmd.Flags()
	if on, _ := f.GetBool("incidents"); !on {
		return printAlerts(cmd.OutOrStdout(), output, alerts)
	}
	cfg, err := scanCorrelationConfig(f)
	if err != nil {
		return err
	}
	cls, err := scanClassifier(f)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	incs := groupIncidents(alerts, cfg, now)
	assessScanIncidents(incs, format, cls, cmd.ErrOrStderr(), now)
	fmt.Fprintf(cmd.ErrOrStderr(), "%s from %s\n", count(len(incs), "incident", "incidents"), count(len(alerts), "alert", "alerts"))
	return printIncidents(cmd.OutOrStdout(), output, incs)
}

// scanCorrelationConfig reads the correlation flags the way the server
// reads its settings of the same names (Config.incidentConfig).
func scanCorrelationConfig(f *pflag.FlagSet) (incident.CorrelationConfig, error) {
	var c Config
	c.IncidentWindow, _ = f.GetDuration("incident-window")
	c.IncidentSharedAddresses, _ = f.GetStringSlice("incident-shared-addresses")
	c.IncidentCommonAccounts, _ = f.GetStringSlice("incident-common-accounts")
	cfg, err := c.incidentConfig()
	if err != nil {
		return cfg, fmt.Errorf("--incidents: %w", err)
	}
	return cfg, nil
}

// groupIncidents estimates the alerts' intent as the store does at commit
// (from the alerts of the same source address, here those of the scan)
// and runs them, in event-time order, through the server's correlator.
// The incidents come from the correlator's updates, not from what it still
// holds at the end, which an archive longer than the window would have
// expired; they are ordered for triage (priority, severity, first seen).
func groupIncidents(alerts []*alert.Alert, cfg incident.CorrelationConfig, now time.Time) []*scanIncident {
	estimateScanIntents(alerts)
	ordered := slices.Clone(alerts)
	sort.SliceStable(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		if a.Rule.Title != b.Rule.Title {
			return a.Rule.Title < b.Rule.Title
		}
		return a.DedupKey < b.DedupKey
	})
	c := incident.NewCorrelator(cfg, func() string { return event.NewID().String() })
	byID := map[string]*scanIncident{}
	var incs []*scanIncident
	byAlert := make(map[string]*alert.Alert, len(alerts))
	for _, a := range ordered {
		byAlert[a.ID] = a
		u := c.Add(a, now)
		if u.Incident.ID == "" {
			continue
		}
		si := byID[u.Incident.ID]
		if si == nil {
			si = &scanIncident{Alerts: []*alert.Alert{}, Timeline: []incident.TimelineEntry{}}
			byID[u.Incident.ID] = si
			incs = append(incs, si)
		}
		si.Incident = u.Incident
		if u.AlertID != "" {
			si.Alerts = append(si.Alerts, byAlert[u.AlertID])
		}
		si.Timeline = append(si.Timeline, u.Timeline...)
	}
	for _, si := range incs {
		sort.SliceStable(si.Timeline, func(i, j int) bool { return si.Timeline[i].Time.Before(si.Timeline[j].Time) })
		for i := range si.Timeline {
			si.Timeline[i].Seq = int64(i + 1)
		}
	}
	sort.SliceStable(incs, func(i, j int) bool {
		a, b := incs[i].Incident, incs[j].Incident
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.FirstSeen.Before(b.FirstSeen)
	})
	return incs
}

// maxIntentPeers caps the alerts of one source address the intent
// estimate weighs, the most recent first, as the store caps them.
const maxIntentPeers = 200

// estimateScanIntents sets each alert's intent as the store does at commit
// (alert.IntentFactsOf, alert.EstimateIntent): the facts of a source
// address are gathered once from its alerts in the scan (the most recent
// maxIntentPeers), and each of its alerts is estimated from them with its
// own indicators; an alert without a source address gets the estimate of
// no facts.
func estimateScanIntents(alerts []*alert.Alert) {
	byIP := map[string][]*alert.Alert{}
	var ips []string
	for _, a := range alerts {
		if a.Origin == nil || a.Origin.IP == "" {
			in := alert.EstimateIntent(alert.IntentFactsOf(a, nil, 1))
			a.Intent = &in
			continue
		}
		if byIP[a.Origin.IP] == nil {
			ips = append(ips, a.Origin.IP)
		}
		byIP[a.Origin.IP] = append(byIP[a.Origin.IP], a)
	}
	for _, ip := range ips {
		group := slices.Clone(byIP[ip])
		sort.SliceStable(group, func(i, j int) bool { return group[i].LastSeen.After(group[j].LastSeen) })
		peers := make([]alert.Alert, 0, min(len(group), maxIntentPeers))
		for _, a := range group[:min(len(group), maxIntentPeers)] {
			peers = append(peers, *a)
		}
		f := alert.IntentFactsOf(group[0], peers, 1)
		for _, a := range byIP[ip] {
			f.MassThreats = alert.MassThreats(a.Origin)
			in := alert.EstimateIntent(f)
			a.Intent = &in
		}
	}
}

func printIncidents(w io.Writer, output string, incs []*scanIncident) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if incs == nil {
			incs = []*scanIncident{}
		}
		return enc.Encode(incs)
	case "ndjson":
		enc := json.NewEncoder(w)
		for _, si := range incs {
			if err := enc.Encode(si); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, si := range incs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		inc := si.Incident
		fmt.Fprintf(tw, "INCIDENT %s  %s\n", inc.ID, inc.Title) // no tab: the heading sets no column width
		fmt.Fprintf(tw, "  severity\t%s, priority %d, %s, %s – %s\n", inc.Severity, inc.Priority, count(inc.AlertCount, "alert", "alerts"),
			inc.FirstSeen.UTC().Format(time.RFC3339), inc.LastSeen.UTC().Format(time.RFC3339))
		if len(inc.Tactics) > 0 {
			fmt.Fprintf(tw, "  tactics\t%s\n", strings.Join(inc.Tactics, " → "))
		}
		fmt.Fprintf(tw, "  entities\t%s\n", entityList(inc.Entities, 12))
		as := inc.Assessment
		if as.Intent.Estimate != "" {
			fmt.Fprintf(tw, "  intent\t%s", as.Intent.Estimate)
			if len(as.Intent.Reasons) > 0 {
				fmt.Fprintf(tw, ": %s", strings.Join(as.Intent.Reasons, "; "))
			}
			fmt.Fprintln(tw)
		}
		for j, c := range as.Compromised {
			label := ""
			if j == 0 {
				label = "  compromised"
			}
			fmt.Fprintf(tw, "%s\t%s=%s (%s)\n", label, c.Entity.Type, c.Entity.Value, c.Reason)
		}
		for j, d := range as.DataAccessed {
			label := ""
			if j == 0 {
				label = "  data accessed"
			}
			name := d.Name
			if d.Container != "" {
				name = d.Container + "/" + d.Name
			}
			action := ""
			if d.Action != "" {
				action = ", " + d.Action
			}
			fmt.Fprintf(tw, "%s\t%s %s: %s%s\n", label, d.Kind, name, d.Sensitivity, action)
		}
		for j, a := range si.Alerts {
			label := ""
			if j == 0 {
				label = "  alerts"
			}
			ev := ""
			if len(a.Evidence) > 0 && a.Evidence[0].File != "" {
				ev = fmt.Sprintf("  %s:%d", a.Evidence[0].File, a.Evidence[0].Line)
			}
			fmt.Fprintf(tw, "%s\t%s  %s  %s (%d)%s\n", label, a.FirstSeen.UTC().Format(time.RFC3339), a.Severity, a.Rule.Title, a.Count, ev)
		}
	}
	return tw.Flush()
}

// entityList shows up to n entities as type=value.
func entityList(es []alert.Entity, n int) string {
	parts := make([]string, 0, min(n, len(es))+1)
	for i, e := range es {
		if i == n {
			parts = append(parts, fmt.Sprintf("(+%d)", len(es)-n))
			break
		}
		parts = append(parts, e.Type+"="+e.Value)
	}
	return strings.Join(parts, " ")
}

// readEvidence decodes again, in full, the records the incidents'
// alerts point at (file and line), for the assessment: the scan decoded
// only the fields its rules read. Each incident gets up to
// maxAssessEvidence events, one of each alert in turn, as the server
// picks them. Records are split and their format guessed as the scan did
// them (format is --format). Standard input cannot be read twice: its
// evidence is left out, and said so on warn.
func readEvidence(incs []*scanIncident, format string, warn io.Writer) map[string][]incident.EvidenceEvent {
	type want struct{ alertID, incID string }
	lines := map[string]map[int][]want{} // file → line → who wants it
	var files []string
	stdin := false
	for _, si := range incs {
		as := make([]alert.Alert, len(si.Alerts))
		for i, a := range si.Alerts {
			as[i] = *a
		}
		for _, p := range evidenceToRead(as, maxAssessEvidence) {
			switch {
			case p.File == "-":
				stdin = true
				continue
			case p.File == "" || p.Line == 0:
				continue
			}
			m := lines[p.File]
			if m == nil {
				m = map[int][]want{}
				lines[p.File] = m
				files = append(files, p.File)
			}
			m[p.Line] = append(m[p.Line], want{p.AlertID, si.ID})
		}
	}
	if stdin {
		fmt.Fprintln(warn, "evidence read from standard input is not read again: the assessment leaves out the data it shows")
	}
	out := map[string][]incident.EvidenceEvent{}
	now := time.Now().UTC()
	for _, name := range files {
		wanted := lines[name]
		br, closeIn, err := openInput(name, nil)
		if err != nil {
			fmt.Fprintf(warn, "%s: evidence not read again: %v\n", name, err)
			continue
		}
		decoders := map[string]decode.Decoder{}
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		_, err = streamRecords(name, br, format, 1000, io.Discard, nil, func(f string, recs []event.Raw) {
			for _, r := range recs {
				ws := wanted[r.Line]
				if len(ws) == 0 {
					continue
				}
				dec, ok := decoders[f]
				if !ok {
					var derr error
					if dec, derr = decode.New(f); derr != nil {
						return
					}
					decoders[f] = dec
				}
				keep := func(e *event.Event) {
					if e.Time.IsZero() {
						e.Time = now
					}
					fields := incident.FieldMapOf(e)
					for _, w := range ws {
						out[w.incID] = append(out[w.incID], incident.EvidenceEvent{AlertID: w.alertID, EventID: e.ID.String(), Time: e.Time, Fields: fields})
					}
				}
				ev.Reset()
				ev.ID, ev.Source, ev.Format, ev.Received, ev.Raw, ev.Line = r.ID, name, f, now, r.Data, r.Line
				if exp, ok := dec.(decode.Expander); ok {
					_ = exp.Expand(r.Data, &ev, keep) // a record the scan refused raised no alert
				} else if dec.Decode(r.Data, &ev) == nil {
					keep(&ev)
				}
			}
		})
		closeIn()
		if err != nil {
			fmt.Fprintf(warn, "%s: evidence not read again: %v\n", name, err)
		}
	}
	return out
}

// assessScanIncidents fills in each incident's assessment as the server
// does (assessOffline), from its alerts and their evidence read again.
func assessScanIncidents(incs []*scanIncident, format string, cls *incident.Classifier, warn io.Writer, now time.Time) {
	evidence := readEvidence(incs, format, warn)
	for _, si := range incs {
		si.Assessment = assessOffline(si.Alerts, evidence[si.ID], cls)
		si.Assessment.Updated = now
	}
}

// scanClassifier reads --sensitivity (a YAML file with the config file's
// sensitivity list and sensitivity-default; other keys are left alone, so
// the server's config file will do) and --sensitivity-default, which wins.
func scanClassifier(f *pflag.FlagSet) (*incident.Classifier, error) {
	var doc struct {
		Sensitivity []sensitivityRuleConfig `yaml:"sensitivity"`
		Default     string                  `yaml:"sensitivity-default"`
	}
	if path, _ := f.GetString("sensitivity"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--sensitivity: %w", err)
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("--sensitivity %s: %w", path, err)
		}
	}
	if f.Changed("sensitivity-default") || doc.Default == "" {
		doc.Default, _ = f.GetString("sensitivity-default")
	}
	c := Config{Sensitivity: doc.Sensitivity, SensitivityDefault: doc.Default}
	if err := c.parseSensitivity(); err != nil {
		return nil, fmt.Errorf("--sensitivity: %w", err)
	}
	return c.classifier, nil
}
