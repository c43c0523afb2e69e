package ingest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocsReplies ties docs/ingest.md's Replies section to the handler: its
// table lists the statuses the OpenAPI description does, its examples are
// problem documents, and the text-body example's detail is what the
// handler says.
func TestDocsReplies(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "ingest.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, replies, ok := strings.Cut(string(doc), "\n## Replies\n")
	if !ok {
		t.Fatal("docs/ingest.md has no Replies section")
	}
	replies, _, _ = strings.Cut(replies, "\n## ")

	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^\| \*\*(\d{3})\*\* \|`).FindAllStringSubmatch(replies, -1) {
		documented = append(documented, m[1])
	}
	var described []string
	for code := range Operation().Responses {
		described = append(described, code)
	}
	slices.Sort(documented)
	slices.Sort(described)
	if !slices.Equal(documented, described) {
		t.Errorf("docs/ingest.md lists statuses %v, the OpenAPI description %v", documented, described)
	}

	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(replies, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d JSON blocks in Replies, want the examples and the text-body one", len(blocks))
	}
	for _, line := range strings.Split(strings.TrimSpace(blocks[0][1]), "\n") {
		var p map[string]any
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Errorf("example %s: %v", line, err)
			continue
		}
		status, _ := p["status"].(float64)
		if p["title"] != http.StatusText(int(status)) || p["detail"] == nil || p["error"] != nil {
			t.Errorf("example is not a problem document: %s", line)
		}
	}

	var b strings.Builder
	for range 2000 {
		b.WriteString("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n")
	}
	r := decodeError(t, newEnv(t, nil).post(t, "source=win", ndjson, b.String()), 422)
	if !strings.Contains(blocks[1][1], `"detail": "`+r.Detail+`"`) {
		t.Errorf("docs/ingest.md shows the text-body refusal as\n%s\nthe handler says\n%s", blocks[1][1], r.Detail)
	}
	r = decodeError(t, newEnv(t, nil).post(t, "source=win", "application/xml", "<a/>"), 415)
	if !strings.Contains(blocks[0][1], `"detail": "`+strings.ReplaceAll(r.Detail, `"`, `\"`)+`"`) {
		t.Errorf("docs/ingest.md's 415 example is not what the handler says: %s", r.Detail)
	}
}

// TestDocsRejectReasons: docs/sources.md's metrics table lists every reason
// a receiver rejects a record for.
func TestDocsRejectReasons(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "sources.md"))
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "| `vigil_receiver_rejected_total` |") {
			row = l
		}
	}
	for _, r := range receiverReasons {
		if !strings.Contains(row, "`"+r+"`") {
			t.Errorf("docs/sources.md: vigil_receiver_rejected_total does not list reason %s", r)
		}
	}
}
