package api

import (
	"net/http"
	"testing"

	"github.com/vigil-sec/vigil/store"
)

// An admin quarantines a source and releases it, and sets its silence
// alert; the source shows it, the audit log names each, and neither a reader, a responder nor
// another workspace's admin may.
func TestSourceQuarantineSQLite(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	src := f.seeds["a"].source
	path := "/api/v1/sources/" + src
	on, off := map[string]bool{"quarantined": true}, map[string]bool{"quarantined": false}

	want(t, f.do(http.MethodPatch, path, "a-read", on), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPatch, path, "a-responder", on), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPatch, path, "b-admin", on), http.StatusNotFound, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/sources/no-such", "a-admin", on), http.StatusNotFound, nil)

	var v SourceView
	want(t, f.do(http.MethodPatch, path, "a-admin", on), http.StatusOK, &v)
	if !v.Quarantined || v.Name != src || v.Format != testFormat {
		t.Fatalf("after quarantine: %+v", v)
	}
	v = SourceView{}
	want(t, f.do(http.MethodGet, path, "a-read", nil), http.StatusOK, &v)
	if !v.Quarantined {
		t.Fatal("GET does not show the quarantine")
	}
	// Changing the source's format keeps its quarantine.
	want(t, f.do(http.MethodPut, path, "a-admin", map[string]string{"format": testFormat}), http.StatusOK, &v)
	if !v.Quarantined {
		t.Fatal("PUT of the source released its quarantine")
	}
	want(t, f.do(http.MethodPatch, path, "a-admin", off), http.StatusOK, &v)
	if v.Quarantined {
		t.Fatal("release kept the quarantine")
	}

	// The silence alert: set, refused when nonsense, cleared; the
	// quarantine stays as it was.
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"silent_after": "2h", "silence_alert": false}), http.StatusOK, &v)
	if v.Silence.SilentAfter != "2h0m0s" || v.Silence.Alert || v.Quarantined {
		t.Fatalf("after silence settings: %+v", v)
	}
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"silent_after": "soon"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"silent_after": "10s"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{}), http.StatusUnprocessableEntity, nil)
	v = SourceView{}
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"silent_after": "", "silence_alert": true}), http.StatusOK, &v)
	if v.Silence.SilentAfter != "" || !v.Silence.Alert {
		t.Fatalf("after clearing silence settings: %+v", v)
	}

	var log struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, &log)
	seen := map[string]bool{}
	for _, e := range log.Entries {
		if e.Target == "source:"+src {
			seen[e.Action] = true
		}
	}
	if !seen["source.quarantine"] || !seen["source.release"] || !seen["source.silence"] {
		t.Errorf("audit log lacks the quarantine or the release: %v", seen)
	}
}
