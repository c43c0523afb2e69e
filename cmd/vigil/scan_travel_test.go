package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
)

// Entra sign-ins through vigil scan with the built-in pack: bob signs in
// from France, then from Russia an hour later (Entra's own country of each
// sign-in, no GeoIP flag); alice from France twice. Only bob's second
// sign-in raises Entra ID Impossible Travel.
func TestScanImpossibleTravel(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "signins.jsonl")
	line := func(user, ip, country, at string) string {
		return fmt.Sprintf(`{"createdDateTime":%q,"userPrincipalName":%q,"ipAddress":%q,"appDisplayName":"Office 365","clientAppUsed":"Browser","status":{"errorCode":0},"location":{"city":"x","countryOrRegion":%q}}`, at, user, ip, country)
	}
	writeFile(t, p, strings.Join([]string{
		line("bob@contoso.example", "198.51.100.7", "FR", "2026-12-01T10:00:00Z"),
		line("alice@contoso.example", "198.51.100.8", "FR", "2026-12-01T10:05:00Z"),
		line("alice@contoso.example", "198.51.100.9", "FR", "2026-12-01T10:35:00Z"),
		line("bob@contoso.example", "203.0.113.9", "RU", "2026-12-01T11:00:00Z"),
	}, "\n")+"\n")
	out, err := exec.Command(vigilBin, "scan", "--format", "signin", "-o", "json", p).Output()
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	var alerts []alert.Alert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var travel []alert.Alert
	for _, a := range alerts {
		if a.Rule.Title == "Entra ID Impossible Travel" {
			travel = append(travel, a)
		}
	}
	if len(travel) != 1 {
		t.Fatalf("%d impossible-travel alerts, want 1 (bob's second sign-in):\n%s", len(travel), out)
	}
	found := false
	for _, e := range travel[0].Entities {
		if e.Value == "bob@contoso.example" {
			found = true
		}
	}
	if !found {
		t.Fatalf("alert entities %+v, want bob", travel[0].Entities)
	}
}
