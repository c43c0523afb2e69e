package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestWrappedRecordsNoted: records guessed as generic JSON because they
// wrap another format's records are said once, naming the key to unwrap;
// plain JSON and a named format say nothing.
func TestWrappedRecordsNoted(t *testing.T) {
	trail := `{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"}}`
	for _, c := range []struct {
		name, body, format, want string
	}{
		{"wrapped", `{"p_log_type":"AWS.CloudTrail","event":` + trail + "}\n", "", `t.jsonl: decoded as json: each record holds a cloudtrail record under "event"; unwrap them (e.g. jq -c '.event')`},
		{"plain json", `{"user":"alice","action":"login","meta":{"ip":"203.0.113.9"}}` + "\n", "", ""},
		{"named format", `{"event":` + trail + "}\n", "json", ""},
		{"the record itself", trail + "\n", "", ""},
	} {
		var warn bytes.Buffer
		var got []event.Raw
		format, err := streamRecords("t.jsonl", bufioReader(c.body), c.format, 10, &warn, nil, func(_ string, recs []event.Raw) { got = append(got, recs...) })
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %d records, %v", c.name, len(got), err)
		}
		if c.want == "" && warn.Len() > 0 || !strings.Contains(warn.String(), c.want) {
			t.Errorf("%s (format %s): said %q\nwant %q", c.name, format, warn.String(), c.want)
		}
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
