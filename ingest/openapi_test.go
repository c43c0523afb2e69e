package ingest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestOperation adds the operation to an OpenAPI 3.1 document, as the api
// package does, and checks what a client generator would read from it.
func TestOperation(t *testing.T) {
	doc := &huma.OpenAPI{OpenAPI: "3.1.0", Info: &huma.Info{Title: "vigil", Version: "test"}}
	op := Operation()
	doc.AddOperation(&op)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name     string `json:"name"`
				In       string `json:"in"`
				Required bool   `json:"required"`
			} `json:"parameters"`
			RequestBody struct {
				Required bool                       `json:"required"`
				Content  map[string]json.RawMessage `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Headers map[string]json.RawMessage `json:"headers"`
				Content map[string]struct {
					Schema struct {
						Required []string `json:"required"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	post, ok := got.Paths[Path]["post"]
	if !ok {
		t.Fatalf("no POST %s in %s", Path, b)
	}
	var source bool
	for _, p := range post.Parameters {
		if p.Name == "source" && p.In == "query" && p.Required {
			source = true
		}
	}
	if !source {
		t.Error("source is not a required query parameter")
	}
	for _, ct := range []string{"application/x-ndjson", "application/json", "text/plain"} {
		if _, ok := post.RequestBody.Content[ct]; !ok {
			t.Errorf("request body lacks %s", ct)
		}
	}
	for _, code := range []string{"202", "400", "401", "403", "413", "415", "422", "429", "503"} {
		r, ok := post.Responses[code]
		if !ok {
			t.Errorf("response %s missing", code)
			continue
		}
		ct, want := problemType, "detail"
		if code == "202" {
			ct, want = "application/json", "accepted"
		}
		if !slices.Contains(r.Content[ct].Schema.Required, want) {
			t.Errorf("response %s: %s body does not require %q", code, ct, want)
		}
		if _, ok := r.Headers["Retry-After"]; ok != (code == "429" || code == "503") {
			t.Errorf("response %s: Retry-After header documented = %v", code, ok)
		}
	}
}
