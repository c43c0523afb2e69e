package ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/vigil-sec/vigil/decode/sshd" // its sniffer names the text format
)

// checkTextRefusal checks the answer to a text body sent as NDJSON: one
// 422 that says so once, with the content type to use, a short list of
// lines and the count of all; nothing published.
func checkTextRefusal(t *testing.T, e *env, body string, lines int, wantFormat string) {
	t.Helper()
	w := e.post(t, "source=win", ndjson, body)
	r := decodeError(t, w, 422)
	for _, s := range []string{"the body looks like text, not NDJSON", "Content-Type: text/plain", "nothing was stored"} {
		if !strings.Contains(r.Detail, s) {
			t.Errorf("detail %q does not say %q", r.Detail, s)
		}
	}
	if wantFormat != "" && !strings.Contains(r.Detail, "format="+wantFormat) {
		t.Errorf("detail %q does not suggest format=%s", r.Detail, wantFormat)
	}
	if len(r.Rejected) > maxListedText || len(r.Rejected) == 0 || r.RejectedCount != lines {
		t.Errorf("listed %d, count %d; want 1 to %d listed and %d counted", len(r.Rejected), r.RejectedCount, maxListedText, lines)
	}
	if n := strings.Count(w.Body.String(), "invalid JSON"); n > maxListedText {
		t.Errorf("%d \"invalid JSON\" reasons in the answer", n)
	}
	if len(e.pub.batches) != 0 {
		t.Errorf("%d batches published", len(e.pub.batches))
	}
}

// TestTextBodyAsNDJSON: a text log sent with the README's NDJSON content
// type is refused once, saying that it is text and how to send it.
func TestTextBodyAsNDJSON(t *testing.T) {
	t.Run("synthetic", func(t *testing.T) {
		var b strings.Builder
		for i := range 2000 {
			b.WriteString("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31." + string(rune('0'+i%10)) + "\n")
		}
		e := newEnv(t, nil)
		checkTextRefusal(t, e, b.String(), 2000, "sshd")
		w := e.post(t, "source=win", ndjson, b.String())
		var p map[string]any
		json.Unmarshal(w.Body.Bytes(), &p)
		want := "the body looks like text, not NDJSON: 2000 of 2000 lines are not JSON, so nothing was stored; " +
			"send text logs with Content-Type: text/plain and format=sshd (what line 1 looks like); the first 10 of 2000 rejected lines are listed"
		if p["detail"] != want {
			t.Errorf("detail %q\nwant   %q", p["detail"], want)
		}
	})
	t.Run("loghub openssh", func(t *testing.T) {
		path := filepath.Join("..", "..", "shared", "data", "ssh_auth", "loghub_openssh", "OpenSSH_2k.log")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("loghub OpenSSH log not available (%v): the synthetic case stands in", err)
		}
		checkTextRefusal(t, newEnv(t, nil), string(data), 2000, "sshd")
	})
	t.Run("mostly JSON", func(t *testing.T) {
		// A few text lines among JSON ones are rejected one by one, as
		// before: the good records are stored.
		e := newEnv(t, nil)
		r := decodeReply(t, e.post(t, "source=win", ndjson, "{\"a\":1}\nnot json\n{\"a\":2}\n"))
		if r.Accepted != 2 || r.RejectedCount != 1 {
			t.Errorf("accepted %d, rejected %d; want 2 and 1", r.Accepted, r.RejectedCount)
		}
	})
	t.Run("broken objects", func(t *testing.T) {
		// Truncated objects are broken JSON, not text: each is listed.
		r := decodeError(t, newEnv(t, nil).post(t, "source=win", ndjson, strings.Repeat("{\"a\":\n", 20)), 422)
		if strings.Contains(r.Detail, "text") || len(r.Rejected) != 20 {
			t.Errorf("detail %q, %d listed; want every record rejected, 20 listed", r.Detail, len(r.Rejected))
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		r := decodeError(t, newEnv(t, nil).post(t, "source=win", "application/json", "Dec 10 06:55:46 LabSZ sshd[24200]: x\n"), 400)
		if !strings.Contains(r.Detail, "Content-Type: text/plain") {
			t.Errorf("detail %q does not name text/plain", r.Detail)
		}
	})
}
