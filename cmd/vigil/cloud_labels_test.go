package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// builtinAlerting compiles the built-in pack as serve loads it, with the
// site lists placeholders gives (rules on lists it lacks are left out), and
// returns it with the rules that raise alerts of their own: building
// blocks of correlations (without generate) only feed them.
func builtinAlerting(t *testing.T, placeholders map[string][]string) (*detect.Engine, map[*rule.Rule]bool) {
	t.Helper()
	o := &rule.Options{Placeholders: placeholders, OptionalPlaceholders: true}
	all := &rule.Set{}
	names, err := fs.Glob(content.Rules, "rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		s, errs := o.ParseSet(n, data)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", n, errs)
		}
		all.Add(s)
	}
	if errs := all.Link(); len(errs) > 0 {
		t.Fatalf("link: %v", errs)
	}
	blocks := map[*rule.Rule]bool{}
	for _, c := range all.Correlations {
		if c.Generate {
			continue
		}
		for _, tg := range c.Targets {
			if tg.Rule != nil {
				blocks[tg.Rule] = true
			}
		}
	}
	eng, errs := detect.Compile(all.Rules, detect.Options{Taxonomy: rule.DefaultTaxonomy()})
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	alerting := map[*rule.Rule]bool{}
	for _, r := range eng.Rules() {
		if !blocks[r] {
			alerting[r] = true
		}
	}
	return eng, alerting
}

// labelScore is what one labelled file gave: alerts on the events labelled
// as attacks (recall) and on the near-miss benign ones (false alarms).
type labelScore struct {
	pos, hit, neg, falseAlarm, undecoded int
	// missed and falseAlarms name the labelled tests (rule id / test name)
	// behind the misses, so a run says what is left to detect.
	missed, falseAlarms []string
}

func (s labelScore) recall() float64 { return float64(s.hit) / float64(max(s.pos, 1)) }
func (s labelScore) falseRate() float64 {
	return float64(s.falseAlarm) / float64(max(s.neg, 1))
}

// scoreLabelled runs every event of a Panther rule-test file (one JSON
// object a line: expected_alert, has_mocks, event) through the pack, one
// event at a time. Events whose upstream label depends on mocked state
// (has_mocks) are left out, as the data's README advises. Correlations are
// not run: the file's events are not a timeline.
func scoreLabelled(t *testing.T, path, format string, eng *detect.Engine, alerting map[*rule.Rule]bool) labelScore {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := decode.New(format)
	if err != nil {
		t.Fatal(err)
	}
	var s labelScore
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var rec struct {
			RuleID   string          `json:"rule_id"`
			Test     string          `json:"test_name"`
			Expected bool            `json:"expected_alert"`
			Mocks    bool            `json:"has_mocks"`
			Event    json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if rec.Mocks {
			continue
		}
		name := fmt.Sprintf("line %d: %s / %s", line, rec.RuleID, rec.Test)
		var e event.Event
		e.Fields.Bind(eng.Dict())
		e.Format, e.Raw = format, rec.Event
		alerted := false
		if err := dec.Decode(rec.Event, &e); err != nil {
			s.undecoded++
		} else {
			alerted = slices.ContainsFunc(eng.Match(&e, nil), func(r *rule.Rule) bool { return alerting[r] })
		}
		if rec.Expected {
			s.pos++
			if alerted {
				s.hit++
			} else {
				s.missed = append(s.missed, name)
			}
		} else {
			s.neg++
			if alerted {
				s.falseAlarm++
				s.falseAlarms = append(s.falseAlarms, name)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// The labelled cloud samples of ../shared/data/cloud, scanned with the
// built-in pack twice: as shipped (no site lists: the rules on them are not
// loaded) and with the site lists of testdata/cloud_labels_site.yml. The
// labels come from another product's rules, which cover other behaviour in
// places (known AMI ids, single everyday calls) and disagree with one
// another on some events (one rule's benign event is another's attack, and
// two of its allow-list tests assume different lists); the floors are what
// the pack reaches today, so that a change to a rule that loses detections
// (or adds false alarms) fails here. Figures: docs/detections.md, "Cloud
// control plane".
func TestCloudLabelledSamples(t *testing.T) {
	base := sharedData(t, "cloud")
	site, err := loadPlaceholders(filepath.Join("testdata", "cloud_labels_site.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name         string
		placeholders map[string][]string
		// cloudTrailHit and cloudTrailFalse are the CloudTrail floors of
		// the run; the other files have no event on site lists.
		cloudTrailHit, cloudTrailFalse int
	}{
		{"defaults", nil, 121, 5},
		{"site_lists", site, 127, 6},
	} {
		t.Run(run.name, func(t *testing.T) {
			eng, alerting := builtinAlerting(t, run.placeholders)
			for _, c := range []struct {
				file, format string
				// minHit and maxFalse are counts of events: what the pack gives today.
				minHit, maxFalse int
			}{
				{"aws_cloudtrail/panther_rule_tests.jsonl", "cloudtrail", run.cloudTrailHit, run.cloudTrailFalse},
				{"azure_activity/panther_rule_tests.jsonl", "azureactivity", 87, 3},
				{"azure_signin/panther_rule_tests.jsonl", "signin", 18, 2},
			} {
				t.Run(filepath.Dir(c.file), func(t *testing.T) {
					p := filepath.Join(base, c.file)
					if _, err := os.Stat(p); err != nil {
						t.Skipf("%s not present: %v", p, err)
					}
					s := scoreLabelled(t, p, c.format, eng, alerting)
					t.Logf("%s: recall %d/%d = %.1f%%, false alarms %d/%d = %.1f%% (%d not decoded)",
						c.file, s.hit, s.pos, 100*s.recall(), s.falseAlarm, s.neg, 100*s.falseRate(), s.undecoded)
					for _, m := range s.missed {
						t.Logf("  missed: %s", m)
					}
					for _, m := range s.falseAlarms {
						t.Logf("  false alarm: %s", m)
					}
					if s.hit < c.minHit {
						t.Errorf("%d attacks alerted, fewer than the %d the pack reached", s.hit, c.minHit)
					}
					if s.falseAlarm > c.maxFalse {
						t.Errorf("%d false alarms, more than the %d the pack gave", s.falseAlarm, c.maxFalse)
					}
				})
			}
		})
	}
}

// pyDict reads the honey-bucket CSV's Python-literal dictionaries
// ({'type': 'AWSAccount', 'principalId': ”}) as JSON: their keys and
// values are plain words, addresses and host names, with no quote inside.
func pyDict(s string) (json.RawMessage, error) {
	j := strings.NewReplacer(`'`, `"`, "True", "true", "False", "false", "None", "null").Replace(s)
	if !json.Valid([]byte(j)) {
		return nil, fmt.Errorf("not a simple dictionary: %.80s", s)
	}
	return json.RawMessage(j), nil
}

// The OTRF honey-bucket log (../shared/data/cloud/aws_s3_access_otrf_honeybucket):
// every row is a scanner listing, probing or writing a public bucket from
// the internet. The CSV holds the CloudTrail data events' columns; each row
// is given back its CloudTrail shape (eventTime, eventName, eventSource,
// userIdentity, requestParameters, sourceIPAddress, userAgent) and scanned
// with the built-in pack. The anonymous requests must all alert; requests
// signed by other AWS accounts need the bucket owner's account, which the
// CSV does not keep.
func TestCloudHoneyBucket(t *testing.T) {
	p := filepath.Join(sharedData(t, "cloud"), "aws_s3_access_otrf_honeybucket", "AWS_S3_HoneyBucketLogs.csv.gz")
	f, err := os.Open(p)
	if err != nil {
		t.Skipf("%s not present: %v", p, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	eng, alerting := builtinAlerting(t, nil)
	dec, err := decode.New("cloudtrail")
	if err != nil {
		t.Fatal(err)
	}
	var total, anon, anonHit, hit int
	for n, r := range rows[1:] {
		uid, err := pyDict(r[col["User ID"]])
		if err != nil {
			t.Fatalf("row %d: %v", n+2, err)
		}
		params, err := pyDict(r[col["Request Parameters"]])
		if err != nil {
			t.Fatalf("row %d: %v", n+2, err)
		}
		rec, err := json.Marshal(map[string]any{
			"eventTime": r[col["Event DateTime"]], "eventName": r[col["Event Name"]], "eventType": r[col["Event Type"]],
			"eventSource": "s3.amazonaws.com", "userIdentity": uid, "requestParameters": params,
			"sourceIPAddress": r[col["Source IP"]], "userAgent": r[col["Request User Agent"]],
		})
		if err != nil {
			t.Fatal(err)
		}
		var e event.Event
		e.Fields.Bind(eng.Dict())
		e.Format, e.Raw = "cloudtrail", rec
		if err := dec.Decode(rec, &e); err != nil {
			t.Fatalf("row %d: %v", n+2, err)
		}
		alerted := slices.ContainsFunc(eng.Match(&e, nil), func(r *rule.Rule) bool { return alerting[r] })
		total++
		if alerted {
			hit++
		}
		if strings.Contains(string(uid), "ANONYMOUS_PRINCIPAL") {
			anon++
			if alerted {
				anonHit++
			}
		}
	}
	t.Logf("honey bucket: %d/%d requests alerted; anonymous %d/%d", hit, total, anonHit, anon)
	if anon == 0 || anonHit != anon {
		t.Errorf("%d of %d anonymous requests alerted, want all", anonHit, anon)
	}
}
