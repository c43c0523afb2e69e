// Package incident holds the incident model: alerts that share entities
// within a window gathered into one incident (correlate.go), worked through
// the five stages of the response — Detect, Assess, Diagnose, Stabilize,
// Close — (stage.go), with the assessment of the attack (assess.go), the
// sensitivity of the data it touched (sensitivity.go), tasks, comments and a
// timeline of everything that happened to it.
package incident

import (
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// Incident is a group of related alerts and the response to them.
type Incident struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace"`
	Title     string `json:"title"`
	// Severity is the worst of its alerts', raised one level when the
	// alerts form a chain across the kill chain (see Correlator).
	Severity alert.Severity `json:"severity"`
	// Priority (0–100) orders incidents for triage.
	Priority int    `json:"priority"`
	Stage    Stage  `json:"stage"`
	Status   Status `json:"status"` // follows from Stage (StatusOf)
	// Classification and CloseReason are set when the incident is
	// closed; a reopen keeps them for the record until the next close.
	Classification Classification `json:"classification,omitempty"`
	CloseReason    string         `json:"close_reason,omitempty"`
	Owner          string         `json:"owner,omitempty"`
	Tags           []string       `json:"tags"`
	// Tactics are the alerts' ATT&CK tactics in kill-chain order
	// (SortTactics); Techniques in the order first seen.
	Tactics    []string       `json:"tactics"`
	Techniques []string       `json:"techniques"`
	Entities   []alert.Entity `json:"entities"`
	// RuleIDs are the distinct rules of its alerts; AlertCount how many
	// alerts it holds.
	RuleIDs    []string `json:"rule_ids"`
	AlertCount int      `json:"alert_count"`
	// FirstSeen and LastSeen span its alerts' activity (event time).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Created, Updated and Closed are wall-clock times of the record.
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
	Closed  *time.Time `json:"closed,omitempty"`
	// Reopened counts how often it was reopened.
	Reopened int `json:"reopened,omitempty"`
	// MergedInto names the incident this one was merged into (it is then
	// closed); empty otherwise.
	MergedInto string     `json:"merged_into,omitempty"`
	Assessment Assessment `json:"assessment"`
	Tasks      []Task     `json:"tasks"`
}

// Classification is how a closed incident is judged.
type Classification string

const (
	TruePositiveImpact   Classification = "true_positive_impact"
	TruePositiveNoImpact Classification = "true_positive_no_impact"
	BenignPositive       Classification = "benign_positive"
	FalsePositive        Classification = "false_positive"
)

// Classifications are every classification.
var Classifications = [...]Classification{TruePositiveImpact, TruePositiveNoImpact, BenignPositive, FalsePositive}

// Valid reports whether c is one of the four classifications.
func (c Classification) Valid() bool {
	for _, v := range Classifications {
		if c == v {
			return true
		}
	}
	return false
}

// TruePositive reports whether c says the attack was real.
func (c Classification) TruePositive() bool {
	return c == TruePositiveImpact || c == TruePositiveNoImpact
}

// Task is one item of an incident's checklist, made from the stage's task
// template when the incident enters the stage, or added by hand.
type Task struct {
	ID     string     `json:"id"`
	Stage  Stage      `json:"stage"`
	Title  string     `json:"title"`
	Done   bool       `json:"done"`
	DoneBy string     `json:"done_by,omitempty"`
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// TaskTemplate is the checklist a workspace gives incidents entering a
// stage (editable; DefaultTaskTemplates when a workspace has none).
type TaskTemplate struct {
	Stage Stage    `json:"stage"`
	Tasks []string `json:"tasks"`
}

// Timeline entry kinds.
const (
	TimelineAlert      = "alert"      // an alert joined (AlertID)
	TimelineEvidence   = "evidence"   // an evidence event of an alert (EventID), shown when read
	TimelineCreated    = "created"    // the incident was created (by correlation or by hand)
	TimelineStage      = "stage"      // moved to Stage
	TimelineReopened   = "reopened"   // reopened (by a new alert or by hand)
	TimelineOwner      = "owner"      // assigned
	TimelineTag        = "tag"        // tags added or removed
	TimelineComment    = "comment"    // a responder's comment (Text)
	TimelineTask       = "task"       // a task added, done or undone
	TimelineSeverity   = "severity"   // severity set by hand or by automation
	TimelineAssessment = "assessment" // the assessment was filled in or edited
	TimelineMerge      = "merge"      // incidents merged into this one, or this one into another
	TimelineSplit      = "split"      // alerts split off into another incident
	TimelineAutomation = "automation" // an automation rule acted (Text says what)
	TimelinePlaybook   = "playbook"   // a playbook ran; Failed when it did not succeed
	TimelineDecision   = "decision"   // a block decision was made for the incident
)

// TimelineEntry is one thing that happened to an incident.
type TimelineEntry struct {
	Seq        int64     `json:"seq"` // store order; 0 until stored
	IncidentID string    `json:"incident_id"`
	Time       time.Time `json:"time"` // when it happened: the alert's first_seen, the event's time, the action's time
	Kind       string    `json:"kind"`
	// Actor is who did it: "key:<id>", "user:<name>", "cli", or vigil
	// itself ("vigil:correlation", "vigil:automation:<rule>").
	Actor   string `json:"actor"`
	Summary string `json:"summary"`
	Text    string `json:"text,omitempty"` // a comment's text, a failure's message
	AlertID string `json:"alert_id,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Stage   Stage  `json:"stage,omitempty"`
	Failed  bool   `json:"failed,omitempty"`
}

// Assessment sections, as Assessment.Locked names them.
const (
	SectionNature       = "nature"
	SectionOrigin       = "origin"
	SectionIntent       = "intent"
	SectionCompromised  = "compromised"
	SectionDataAccessed = "data_accessed"
)

// Assessment answers the Assess stage's questions, filled in from the
// evidence (Assess) and editable by responders: a section a responder
// edited is Locked, and later automatic fills leave it as edited.
type Assessment struct {
	Nature       Nature         `json:"nature"`
	Origin       AssessedOrigin `json:"origin"`
	Intent       alert.Intent   `json:"intent"`
	Compromised  []Compromised  `json:"compromised"`
	DataAccessed []DataAccess   `json:"data_accessed"`
	Locked       []string       `json:"locked,omitempty"`
	Updated      time.Time      `json:"updated,omitempty"`
}

// Nature is what the attack is: its alert types and ATT&CK context.
type Nature struct {
	Summary     string   `json:"summary,omitempty"`
	AlertTypes  []string `json:"alert_types"`  // rule titles
	ThreatTypes []string `json:"threat_types"` // alert.ThreatType of the alerts
	Tactics     []string `json:"tactics"`      // kill-chain order
	Techniques  []string `json:"techniques"`
}

// AssessedOrigin is where the attack comes from.
type AssessedOrigin struct {
	Summary    string               `json:"summary,omitempty"`
	Addresses  []string             `json:"addresses"`
	Countries  []string             `json:"countries"` // ISO 3166-1 alpha-2
	Networks   []string             `json:"networks"`  // "AS<n> <org>"
	Indicators []alert.IndicatorRef `json:"indicators"`
}

// Compromised is a system (host, account, database, cloud resource) where
// the attack succeeded, with the reason it is believed to be.
type Compromised struct {
	Entity  alert.Entity `json:"entity"`
	Reason  string       `json:"reason"`
	AlertID string       `json:"alert_id,omitempty"`
	Time    time.Time    `json:"time"`
}

// Sensitivity is a data classification label, from least to most
// sensitive.
type Sensitivity string

const (
	Public       Sensitivity = "public"
	Internal     Sensitivity = "internal"
	Confidential Sensitivity = "confidential"
	Restricted   Sensitivity = "restricted"
)

// Sensitivities are the labels from least to most sensitive.
var Sensitivities = [...]Sensitivity{Public, Internal, Confidential, Restricted}

// Rank orders labels (public 0 … restricted 3; -1 for an unknown label).
func (s Sensitivity) Rank() int {
	for i, v := range Sensitivities {
		if s == v {
			return i
		}
	}
	return -1
}

// Data kinds of DataAccess.
const (
	DataFile   = "file"   // a file path
	DataTable  = "table"  // a database table (Container: server/database)
	DataColumn = "column" // a table's column
	DataObject = "object" // a storage object (Container: bucket or container)
	DataBucket = "bucket" // a bucket or storage container as a whole
)

// DataAccess is a file, table or storage object the attack touched.
type DataAccess struct {
	Kind        string      `json:"kind"`
	Name        string      `json:"name"`
	Container   string      `json:"container,omitempty"`
	Action      string      `json:"action,omitempty"` // read, write, delete, export, execute
	Sensitivity Sensitivity `json:"sensitivity"`
	// Rule is the classification rule that gave the label ("" for the
	// default label).
	Rule    string    `json:"rule,omitempty"`
	AlertID string    `json:"alert_id,omitempty"`
	EventID string    `json:"event_id,omitempty"`
	Time    time.Time `json:"time"`
}

// Similar is a past incident like a given one, with the score (0–1) and
// what they share.
type Similar struct {
	Incident Incident `json:"incident"`
	Score    float64  `json:"score"`
	Shared   []string `json:"shared"` // e.g. "rule sql_injection", "ip 203.0.113.7"
}

// killChain is the ATT&CK enterprise tactics in kill-chain order, as
// rule.Meta.Tactics spells them.
var killChain = [...]string{
	"reconnaissance", "resource-development", "initial-access", "execution",
	"persistence", "privilege-escalation", "defense-evasion", "credential-access",
	"discovery", "lateral-movement", "collection", "command-and-control",
	"exfiltration", "impact",
}

// TacticRank is a tactic's place in the kill chain (0 for reconnaissance),
// len(killChain) for a name it does not know.
func TacticRank(t string) int {
	for i, k := range killChain {
		if k == t {
			return i
		}
	}
	return len(killChain)
}
