package alert

// Asset is an inventory entry an alert's events touch (a host, network,
// account, database or cloud resource), as the enrichment step found it.
type Asset struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Criticality string   `json:"criticality,omitempty"` // low, medium, high, critical
	Owner       string   `json:"owner,omitempty"`
	Environment string   `json:"environment,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// maxAssets bounds the assets one alert lists.
const maxAssets = 50

// addAssets gathers the assets not yet listed.
func (a *Alert) addAssets(as []Asset) {
	for _, x := range as {
		if len(a.Assets) >= maxAssets {
			return
		}
		dup := false
		for _, y := range a.Assets {
			if y.Name == x.Name && y.Type == x.Type {
				dup = true
				break
			}
		}
		if !dup {
			a.Assets = append(a.Assets, x)
		}
	}
}
