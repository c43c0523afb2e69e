package alert

// Origin is where an alert's activity comes from: the source address as
// GeoIP, the network and threat intelligence know it. The enrichment step
// fills it on the signal; the alert keeps its first origin and gathers the
// indicators of later signals.
type Origin struct {
	IP          string  `json:"ip,omitempty"`
	Scope       string  `json:"scope,omitempty"`   // public, private, loopback, link_local, reserved…
	Country     string  `json:"country,omitempty"` // ISO 3166-1 alpha-2
	CountryName string  `json:"country_name,omitempty"`
	City        string  `json:"city,omitempty"`
	Lat         float64 `json:"lat,omitempty"`
	Lon         float64 `json:"lon,omitempty"`
	ASN         uint32  `json:"asn,omitempty"`
	ASOrg       string  `json:"as_org,omitempty"`
	// Indicators are the intelligence matches on the event's observables.
	Indicators []IndicatorRef `json:"indicators,omitempty"`
}

// IndicatorRef is an intelligence match as an alert carries it.
type IndicatorRef struct {
	Kind       string `json:"kind"`
	Value      string `json:"value"`
	Matched    string `json:"matched,omitempty"` // the event's value, when it differs (an address inside a CIDR, a subdomain)
	Field      string `json:"field,omitempty"`   // the event field it was found in
	ThreatType string `json:"threat_type"`
	Threat     string `json:"threat,omitempty"`
	Confidence int    `json:"confidence"`
	Feed       string `json:"feed"`
}

// Intent estimates: is the activity aimed at this workspace, or part of a
// mass campaign.
const (
	IntentTargeted = "targeted"
	IntentRandom   = "random"
	IntentUnknown  = "unknown"
)

// Intent is an alert's intent estimate with the reasons behind it.
type Intent struct {
	Estimate string   `json:"estimate"`
	Reasons  []string `json:"reasons"`
}
