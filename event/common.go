package event

// Common field ids: the ECS-named fields every decoder fills where its
// source has them, so that detections and correlation work across sources.
// @timestamp is Event.Time, not a Common field.
const (
	EventKind = iota
	EventCategory
	EventAction
	EventOutcome
	EventCode
	SourceIP
	SourcePort
	DestinationIP
	DestinationPort
	NetworkTransport
	UserName
	UserDomain
	HostName
	HostIP
	ProcessName
	ProcessExecutable
	ProcessCommandLine
	ProcessPID
	ProcessParentExecutable
	FilePath
	URLOriginal
	URLPath
	URLDomain
	HTTPRequestMethod
	HTTPResponseStatusCode
	UserAgentOriginal
	DBName
	DBUser
	DBStatement
	ServiceName
	CloudProvider
	CloudAccountID
	CloudRegion
	Message
	// Tags are vigil's flags on the event, comma-separated (time_future,
	// time_past: a time stamp far from when the record arrived).
	Tags

	// Enrichment: filled by the enrichment step (package enrich), not by
	// decoders, unless the source carries them already.
	SourceGeoCountryISOCode
	SourceGeoCountryName
	SourceGeoCityName
	SourceGeoLocation // "lat,lon"
	SourceASNumber
	SourceASOrganizationName
	DestinationGeoCountryISOCode
	DestinationGeoCountryName
	DestinationGeoCityName
	DestinationGeoLocation
	DestinationASNumber
	DestinationASOrganizationName
	ThreatIndicatorType       // the matched indicator's kind: ip, cidr, domain, url, md5, sha1, sha256, email, user_agent
	ThreatIndicatorName       // the indicator's value
	ThreatIndicatorConfidence // 0–100
	ThreatIndicatorThreatType // botnet, c2, malware, phishing, scanner, tor_exit…
	ThreatFeedName
	ThreatEnrichments // every match of the event, "kind:value threat_type feed" joined by "; "
	AssetName
	AssetType // host, network, account, database, cloud_resource
	AssetCriticality
	AssetOwner
	AssetEnvironment
	AssetTags
	// Travel between an account's successive successful sign-ins
	// (enrich/travel): great-circle distance, the speed it implies, and the
	// previous sign-in's country, address and time (RFC 3339).
	TravelDistanceKm
	TravelSpeedKmh
	TravelPreviousCountry
	TravelPreviousIP
	TravelPreviousTime

	NumCommon
)

var commonNames = [NumCommon]string{
	EventKind:               "event.kind",
	EventCategory:           "event.category",
	EventAction:             "event.action",
	EventOutcome:            "event.outcome",
	EventCode:               "event.code",
	SourceIP:                "source.ip",
	SourcePort:              "source.port",
	DestinationIP:           "destination.ip",
	DestinationPort:         "destination.port",
	NetworkTransport:        "network.transport",
	UserName:                "user.name",
	UserDomain:              "user.domain",
	HostName:                "host.name",
	HostIP:                  "host.ip",
	ProcessName:             "process.name",
	ProcessExecutable:       "process.executable",
	ProcessCommandLine:      "process.command_line",
	ProcessPID:              "process.pid",
	ProcessParentExecutable: "process.parent.executable",
	FilePath:                "file.path",
	URLOriginal:             "url.original",
	URLPath:                 "url.path",
	URLDomain:               "url.domain",
	HTTPRequestMethod:       "http.request.method",
	HTTPResponseStatusCode:  "http.response.status_code",
	UserAgentOriginal:       "user_agent.original",
	DBName:                  "db.name",
	DBUser:                  "db.user",
	DBStatement:             "db.statement",
	ServiceName:             "service.name",
	CloudProvider:           "cloud.provider",
	CloudAccountID:          "cloud.account.id",
	CloudRegion:             "cloud.region",
	Message:                 "message",
	Tags:                    "tags",

	SourceGeoCountryISOCode:       "source.geo.country_iso_code",
	SourceGeoCountryName:          "source.geo.country_name",
	SourceGeoCityName:             "source.geo.city_name",
	SourceGeoLocation:             "source.geo.location",
	SourceASNumber:                "source.as.number",
	SourceASOrganizationName:      "source.as.organization.name",
	DestinationGeoCountryISOCode:  "destination.geo.country_iso_code",
	DestinationGeoCountryName:     "destination.geo.country_name",
	DestinationGeoCityName:        "destination.geo.city_name",
	DestinationGeoLocation:        "destination.geo.location",
	DestinationASNumber:           "destination.as.number",
	DestinationASOrganizationName: "destination.as.organization.name",
	ThreatIndicatorType:           "threat.indicator.type",
	ThreatIndicatorName:           "threat.indicator.name",
	ThreatIndicatorConfidence:     "threat.indicator.confidence",
	ThreatIndicatorThreatType:     "threat.indicator.threat_type",
	ThreatFeedName:                "threat.feed.name",
	ThreatEnrichments:             "threat.enrichments",
	AssetName:                     "asset.name",
	AssetType:                     "asset.type",
	AssetCriticality:              "asset.criticality",
	AssetOwner:                    "asset.owner",
	AssetEnvironment:              "asset.environment",
	AssetTags:                     "asset.tags",
	TravelDistanceKm:              "vigil.travel.distance_km",
	TravelSpeedKmh:                "vigil.travel.speed_kmh",
	TravelPreviousCountry:         "vigil.travel.previous_country",
	TravelPreviousIP:              "vigil.travel.previous_ip",
	TravelPreviousTime:            "vigil.travel.previous_time",
}

var commonIDs = func() map[string]int {
	m := make(map[string]int, NumCommon)
	for i, n := range commonNames {
		m[n] = i
	}
	return m
}()

// CommonName returns the ECS name of common field id.
func CommonName(id int) string { return commonNames[id] }

// CommonID returns the id of an ECS name.
func CommonID(name string) (int, bool) {
	id, ok := commonIDs[name]
	return id, ok
}
