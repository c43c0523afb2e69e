package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// Both stores keep incidents: serve's assessment runs on either.
var (
	_ assessStore = (*sqlite.DB)(nil)
	_ assessStore = (*postgres.DB)(nil)
)

// TestServeAssessesIncidents sends SQL Server audit rows of an attack
// (injection, password guessing, a shell, a file read) through `vigil
// serve` and reads the incidents' assessments from the store: the tables
// and files the evidence shows read, with their sensitivity, the
// compromised systems and the nature of the attack.
func TestServeAssessesIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	key, _ := newKey(t, dir, "attacked", "admin")
	srv := startServe(t, dir)
	defer srv.stop()
	_, attack := mssqlWorkloads()
	if r := ingestBody(t, srv.url, key, mssqlServer, "mssql-audit", "application/x-ndjson", attack.ndjson(t)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}

	ctx := context.Background()
	db := openDataStore(t, dir)
	var err error
	var incs []incident.Incident
	data := map[string]incident.DataAccess{}
	var types []string
	compromised := map[string]string{}
	poll(t, "the incidents' assessments to name sys.sql_logins and web.config", func() bool {
		incs, _, err = db.Incidents(ctx, "attacked", store.IncidentQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		clear(data)
		clear(compromised)
		types = nil
		for _, inc := range incs {
			for _, d := range inc.Assessment.DataAccessed {
				data[d.Kind+" "+d.Name] = d
			}
			for _, c := range inc.Assessment.Compromised {
				compromised[c.Entity.Type+"="+c.Entity.Value] = c.Reason
			}
			types = append(types, inc.Assessment.Nature.AlertTypes...)
		}
		_, logins := data["table sys.sql_logins"]
		_, config := data[`file C:\inetpub\wwwroot\web.config`]
		return logins && config
	})
	for _, w := range []struct {
		key       string
		label     incident.Sensitivity
		rule      string
		container string
		action    string
	}{
		{"table sys.sql_logins", incident.Restricted, "database-logins", mssqlServer + "/" + mssqlDatabase, incident.ActionRead},
		{"table dbo.users", incident.Confidential, "people-and-business-records", mssqlServer + "/" + mssqlDatabase, incident.ActionRead},
		{`file C:\inetpub\wwwroot\web.config`, incident.Restricted, "stored-passwords", "", incident.ActionRead},
	} {
		d, ok := data[w.key]
		if !ok {
			t.Errorf("%s not listed as accessed: %v", w.key, data)
			continue
		}
		if d.Sensitivity != w.label || d.Rule != w.rule || d.Container != w.container || d.Action != w.action || d.EventID == "" || d.AlertID == "" {
			t.Errorf("%s: %+v, want %s by %s in %q, %s, with its alert and event", w.key, d, w.label, w.rule, w.container, w.action)
		}
	}
	if !slices.Contains(types, titleSQLInjection) || !slices.Contains(types, titleShellFromSQL) {
		t.Errorf("alert types %q", types)
	}
	if len(compromised) == 0 {
		t.Errorf("no compromised system, though a shell ran")
	}
	for k, r := range compromised {
		if strings.HasPrefix(k, "ip=") {
			t.Errorf("an address listed as compromised: %s (%s)", k, r)
		}
	}
	t.Logf("%d incidents; compromised %v", len(incs), compromised)
}
