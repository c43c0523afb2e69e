package alert

import "strings"

// Entity type preferences for the compromised entity: what an attack that
// succeeded took over first (the account it logged in as), what one that
// was only tried aimed at first (the machine or service it reached). A
// source address is the attacker's, never the compromised entity.
var (
	compromisedOnSuccess = []string{EntityAccount, EntityHost, EntityDatabase, EntityCloudResource,
		EntityApplication, EntityProcess, EntityFile, EntityURL, EntityIP, EntityHash}
	compromisedOnAttempt = []string{EntityHost, EntityDatabase, EntityCloudResource, EntityAccount,
		EntityApplication, EntityProcess, EntityFile, EntityURL, EntityIP, EntityHash}
)

// assetEntityTypes maps inventory asset types onto the entity types they
// stand for; a network is no single entity and is left out.
var assetEntityTypes = map[string]string{
	"host": EntityHost, "account": EntityAccount, "database": EntityDatabase, "cloud_resource": EntityCloudResource,
}

// CompromisedEntity is the alert's primary entity: the one thing on the
// defender's side that the activity reached or aimed at, nil when the
// alert names none (a correlation grouped by the source address alone).
// It is chosen, deterministically, as:
//
//  1. the most critical inventory asset the alert touches (host, account,
//     database or cloud resource; the first listed among equals), since
//     the inventory says what it is and what it is worth;
//  2. otherwise the first of the alert's entities of the first type in
//     order of preference: account, host, database, cloud resource,
//     application, process, file, URL, address, hash when the rule says
//     the attack succeeded (outcome success: the account was taken over);
//     host, database, cloud resource, account, then the same, when not.
//
// An address counts only when it is not the alert's source (Origin.IP),
// and only when the source is known: without it the attacker's address
// cannot be told from the target's.
func CompromisedEntity(a *Alert) *Entity {
	best := -1
	for i, x := range a.Assets {
		if _, ok := assetEntityTypes[x.Type]; !ok {
			continue
		}
		if best < 0 || criticalPoints[strings.ToLower(x.Criticality)] > criticalPoints[strings.ToLower(a.Assets[best].Criticality)] {
			best = i
		}
	}
	if best >= 0 {
		x := a.Assets[best]
		return &Entity{Type: assetEntityTypes[x.Type], Value: x.Name}
	}
	order := compromisedOnAttempt
	if strings.EqualFold(a.Rule.Outcome, "success") {
		order = compromisedOnSuccess
	}
	for _, typ := range order {
		for _, e := range a.Entities {
			if e.Type != typ || e.Value == "" {
				continue
			}
			if typ == EntityIP && (a.Origin == nil || a.Origin.IP == "" || e.Value == a.Origin.IP) {
				continue
			}
			c := e
			return &c
		}
	}
	return nil
}
