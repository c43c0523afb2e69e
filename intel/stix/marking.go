package stix

import (
	"encoding/json"
	"strings"
)

// The TLP marking definitions by their well-known ids: STIX 2.1 §7.2.1.4
// (TLP 1.0) and the TLP 2.0 extension's definitions.
var tlpByID = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear", // TLP:WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
	tlp2ID["clear"]:        "clear",
	tlp2ID["green"]:        "green",
	tlp2ID["amber"]:        "amber",
	tlp2ID["amber+strict"]: "amber+strict",
	tlp2ID["red"]:          "red",
}

var tlp2ID = map[string]string{
	"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// tlp2Extension is the extension definition id under which TLP 2.0
// marking definitions carry their level.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// tlpRank orders levels so that the strictest of several markings wins.
var tlpRank = map[string]int{"clear": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}

// tlpLevel normalizes a TLP word of either version ("WHITE", "TLP:AMBER+STRICT").
func tlpLevel(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "TLP:")))
	if s == "white" {
		s = "clear"
	}
	if tlpRank[s] == 0 {
		return ""
	}
	return s
}

// markingTLP reads the TLP level a marking-definition object states: TLP
// 1.0's definition_type "tlp", TLP 2.0's extension, or failing both a
// name such as "TLP:GREEN".
func markingTLP(o *object) string {
	if o.DefinitionType == "tlp" {
		var d struct {
			TLP string `json:"tlp"`
		}
		if json.Unmarshal(o.Definition, &d) == nil {
			if l := tlpLevel(d.TLP); l != "" {
				return l
			}
		}
	}
	if raw, ok := o.Extensions[tlp2Extension]; ok {
		var e struct {
			TLP string `json:"tlp_2_0"`
		}
		if json.Unmarshal(raw, &e) == nil {
			if l := tlpLevel(e.TLP); l != "" {
				return l
			}
		}
	}
	if strings.HasPrefix(strings.ToUpper(o.Name), "TLP:") {
		return tlpLevel(o.Name)
	}
	return ""
}

// strictest returns the strictest TLP among refs, resolved through the
// well-known ids and the bundle's own marking definitions.
func strictest(refs []string, defined map[string]string) string {
	best := ""
	for _, r := range refs {
		l := tlpByID[r]
		if l == "" {
			l = defined[r]
		}
		if tlpRank[l] > tlpRank[best] {
			best = l
		}
	}
	return best
}
