package taxii

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzObjects answers the client's objects requests with fuzzed bodies
// and X-TAXII-Date-Added-Last headers: it must end with objects or an
// error, never hang or panic.
func FuzzObjects(f *testing.F) {
	f.Add(`{"more":true,"next":"x","objects":[{"type":"indicator"}]}`, "2026-01-01T00:00:00Z")
	f.Add(`{"more":true,"objects":[]}`, "")
	f.Add(`{"more":false}`, "not a time")
	var body, last string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if last != "" {
			w.Header().Set("X-TAXII-Date-Added-Last", last)
		}
		w.Header().Set("Content-Type", MediaType)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := &Client{}
	f.Fuzz(func(t *testing.T, b, l string) {
		body, last = b, l
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n := 0
		for _, err := range c.Objects(ctx, srv.URL+"/api/", "c", time.Time{}) {
			if err != nil {
				break
			}
			if n++; n > 3 {
				t.Fatalf("a server repeating itself kept the client paging: %q %q", b, l)
			}
		}
	})
}
