package alert

// Anomaly kinds: a value never seen for the entity before, or one seen
// rarely.
const (
	AnomalyFirstSeen = "first_seen"
	AnomalyRare      = "rare"
)

// maxAnomalies caps the anomalies one alert keeps.
const maxAnomalies = 20

// Anomaly is what a behavioural baseline found new or rare on the event
// behind a signal: for example a principal (Value) never seen before on a
// database server (Entity), in the model "sql.principal".
type Anomaly struct {
	Model  string `json:"model"`          // the baseline model, e.g. "sql.principal", "account.country"
	Entity string `json:"entity"`         // what the model is kept for: a server, an account, a host
	Value  string `json:"value"`          // the value that was new or rare
	Kind   string `json:"kind"`           // AnomalyFirstSeen or AnomalyRare
	Seen   int    `json:"seen,omitempty"` // times the value was seen before (rare)
}

// addAnomalies gathers the anomalies not yet listed.
func (a *Alert) addAnomalies(as []Anomaly) {
	for _, x := range as {
		if len(a.Anomalies) >= maxAnomalies {
			return
		}
		dup := false
		for _, y := range a.Anomalies {
			if y.Model == x.Model && y.Entity == x.Entity && y.Value == x.Value {
				dup = true
				break
			}
		}
		if !dup {
			a.Anomalies = append(a.Anomalies, x)
		}
	}
}
