package alert

import (
	"fmt"
	"slices"
	"strings"
)

// IntentFacts are what the intent estimate weighs: the alert's intelligence
// and what its source address did recently, gathered from the store
// (IntentFactsOf).
type IntentFacts struct {
	// SourceIP is the alert's source address; without one, little can be
	// said.
	SourceIP string
	// MassThreats are the alert's indicator threat types that mark mass
	// activity (scanner, botnet, tor_exit, spam).
	MassThreats []string
	// Workspaces is how many workspaces the source address has alerts in
	// recently, this one included.
	Workspaces int
	// Hosts and Users are the distinct hosts and accounts the source's
	// recent alerts in this workspace name.
	Hosts, Users int
	// InvalidUsers are the attempts on user names that do not exist;
	// ValidUsers the distinct existing accounts tried that are not common
	// defaults (root, admin…), which mass scanners try everywhere.
	InvalidUsers, ValidUsers int
	// Attempts is how many events the source's recent alerts in this
	// workspace count.
	Attempts int
	// SuccessAfterFailures: a login from the source succeeded after failed
	// attempts from it.
	SuccessAfterFailures bool
	// ActivityAfterLogin: the source raised other alerts after a login
	// from it succeeded.
	ActivityAfterLogin bool
}

// Thresholds of the estimate: past them a source spreads its attempts wide,
// as mass campaigns do.
const (
	IntentManyWorkspaces = 3
	IntentManyHosts      = 5
	IntentManyUsers      = 5
	// IntentPersistent attempts on a single host make it the target.
	IntentPersistent = 5
)

// massThreats are the indicator threat types of sources that attack
// whoever they reach.
var massThreats = map[string]bool{"scanner": true, "botnet": true, "tor_exit": true, "spam": true}

// EstimateIntent weighs the facts: follow-through after access counts
// twice, every other reason once; the side with more weight wins, a tie (or
// no reason at all) is unknown. Every reason found is listed, whichever side
// it is on.
func EstimateIntent(f IntentFacts) Intent {
	var random, targeted []string
	if len(f.MassThreats) > 0 {
		random = append(random, "the source is a known "+strings.Join(f.MassThreats, ", ")+" address in threat intelligence")
	}
	if f.Workspaces >= IntentManyWorkspaces {
		random = append(random, fmt.Sprintf("the same source has alerts in %d workspaces", f.Workspaces))
	}
	if f.Hosts >= IntentManyHosts {
		random = append(random, fmt.Sprintf("the same source tried %d hosts", f.Hosts))
	}
	if f.Users >= IntentManyUsers {
		random = append(random, fmt.Sprintf("the same source tried %d user names", f.Users))
	}
	if f.InvalidUsers > 0 && f.ValidUsers == 0 {
		random = append(random, fmt.Sprintf("%d attempts on user names that do not exist, none on a valid non-default one", f.InvalidUsers))
	}
	weight := 0
	if f.SuccessAfterFailures {
		targeted = append(targeted, "a login from the source succeeded after failed attempts")
		weight += 2
	}
	if f.ActivityAfterLogin {
		targeted = append(targeted, "the source was active after a successful login")
		weight += 2
	}
	if f.ValidUsers > 0 {
		targeted = append(targeted, fmt.Sprintf("the source tried %d valid user names that are not common defaults", f.ValidUsers))
		weight++
	}
	if f.Hosts == 1 && f.Attempts >= IntentPersistent && len(random) == 0 {
		targeted = append(targeted, fmt.Sprintf("%d attempts against one host", f.Attempts))
		weight++
	}
	weight -= len(random)
	reasons := append(targeted, random...)
	switch {
	case f.SourceIP == "" && len(reasons) == 0:
		return Intent{Estimate: IntentUnknown, Reasons: []string{"no source address"}}
	case len(reasons) == 0:
		return Intent{Estimate: IntentUnknown, Reasons: []string{"no sign either way"}}
	case weight > 0:
		return Intent{Estimate: IntentTargeted, Reasons: reasons}
	case weight < 0:
		return Intent{Estimate: IntentRandom, Reasons: reasons}
	}
	return Intent{Estimate: IntentUnknown, Reasons: reasons}
}

// Login roles of an alert, read from its rule: the built-in rules and
// Sigma's name them this way.
const (
	loginNone        = iota
	loginInvalidUser // an attempt on a user name that does not exist
	loginFailure     // a failed login (ATT&CK Brute Force)
	loginSuccess     // a successful login (ATT&CK Valid Accounts, or "accepted"/"success" in the title)
)

func loginRole(a *Alert) int {
	title := strings.ToLower(a.Rule.Title)
	for _, w := range []string{"invalid user", "nonexistent user", "non-existent user", "unknown user"} {
		if strings.Contains(title, w) {
			return loginInvalidUser
		}
	}
	for _, t := range a.Techniques {
		if t == "T1110" || strings.HasPrefix(t, "T1110.") {
			return loginFailure
		}
	}
	if strings.Contains(title, "login") || strings.Contains(title, "logon") {
		if strings.Contains(title, "accepted") || strings.Contains(title, "success") {
			return loginSuccess
		}
		if strings.Contains(title, "fail") {
			return loginFailure
		}
	}
	for _, t := range a.Techniques {
		if t == "T1078" || strings.HasPrefix(t, "T1078.") {
			return loginSuccess
		}
	}
	return loginNone
}

// defaultUsers are the account names mass brute-forcing tries on every
// host: trying them says nothing of a target.
var defaultUsers = map[string]bool{
	"root": true, "admin": true, "administrator": true, "guest": true, "test": true,
	"user": true, "ubuntu": true, "oracle": true, "postgres": true, "pi": true,
	"support": true, "ftp": true, "mysql": true, "git": true,
}

// IntentFactsOf gathers the facts of a from recent alerts of the same source
// address in its workspace (peers; a itself may be among them, matched by
// id) and the number of workspaces the address has alerts in.
func IntentFactsOf(a *Alert, peers []Alert, workspaces int) IntentFacts {
	f := IntentFacts{Workspaces: workspaces, MassThreats: MassThreats(a.Origin)}
	if a.Origin != nil {
		f.SourceIP = a.Origin.IP
	}
	if f.SourceIP == "" {
		return f
	}
	all := make([]*Alert, 0, len(peers)+1)
	all = append(all, a)
	for i := range peers {
		if peers[i].ID != a.ID {
			all = append(all, &peers[i])
		}
	}
	hosts, users, valid := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var firstFailure, firstSuccess *Alert
	for _, p := range all {
		f.Attempts += p.Count
		role := loginRole(p)
		for _, e := range p.Entities {
			switch e.Type {
			case EntityHost:
				hosts[strings.ToLower(e.Value)] = true
			case EntityAccount:
				u := strings.ToLower(e.Value)
				users[u] = true
				if (role == loginFailure || role == loginSuccess) && !defaultUsers[u] {
					valid[u] = true
				}
			}
		}
		switch role {
		case loginInvalidUser:
			f.InvalidUsers += p.Count
		case loginFailure:
			if firstFailure == nil || p.FirstSeen.Before(firstFailure.FirstSeen) {
				firstFailure = p
			}
		case loginSuccess:
			if firstSuccess == nil || p.FirstSeen.Before(firstSuccess.FirstSeen) {
				firstSuccess = p
			}
		}
	}
	f.Hosts, f.Users, f.ValidUsers = len(hosts), len(users), len(valid)
	if firstSuccess != nil && firstFailure != nil && !firstFailure.FirstSeen.After(firstSuccess.FirstSeen) {
		f.SuccessAfterFailures = true
	}
	if firstSuccess != nil {
		for _, p := range all {
			if loginRole(p) == loginNone && p.LastSeen.After(firstSuccess.FirstSeen) {
				f.ActivityAfterLogin = true
				break
			}
		}
	}
	return f
}

// MassThreats are the threat types of o's indicators that mark mass
// activity (scanner, botnet, tor_exit, spam), each once.
func MassThreats(o *Origin) []string {
	if o == nil {
		return nil
	}
	var out []string
	for _, r := range o.Indicators {
		t := strings.ToLower(r.ThreatType)
		if massThreats[t] && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
