package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestCountryTable(t *testing.T) {
	if len(countries) != 249 {
		t.Errorf("%d countries, want ISO 3166-1's 249", len(countries))
	}
	nums := map[string]string{}
	for a2, c := range countries {
		if len(a2) != 2 || len(c.numeric) != 3 || c.name == "" {
			t.Errorf("%q: %+v", a2, c)
		}
		if o, dup := nums[c.numeric]; dup {
			t.Errorf("numeric %s is both %s and %s", c.numeric, o, a2)
		}
		nums[c.numeric] = a2
	}
	for a2, num := range map[string]string{"DE": "276", "FR": "250", "JP": "392", "BR": "076", "US": "840", "GB": "826", "RU": "643"} {
		if countries[a2].numeric != num {
			t.Errorf("%s numeric %q, want %s", a2, countries[a2].numeric, num)
		}
	}
}

// Every country the world map draws has its numeric id in the table, so
// that the pane's countries land on the map.
func TestCountryTableCoversWorldMap(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "geoip", "world_map", "countries-110m.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("world map not available (%v): the test reads ../shared/data", err)
	}
	var topo struct {
		Objects struct {
			Countries struct {
				Geometries []struct {
					ID         string `json:"id"`
					Properties struct {
						Name string `json:"name"`
					} `json:"properties"`
				} `json:"geometries"`
			} `json:"countries"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(b, &topo); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range countries {
		have[c.numeric] = true
	}
	n := 0
	for _, g := range topo.Objects.Countries.Geometries {
		if g.ID == "" {
			continue // N. Cyprus, Somaliland, Kosovo: no ISO numeric code
		}
		n++
		if !have[g.ID] {
			t.Errorf("map feature %s (%s) has no country in the table", g.ID, g.Properties.Name)
		}
	}
	if n < 170 {
		t.Errorf("only %d features with an id", n)
	}
}
