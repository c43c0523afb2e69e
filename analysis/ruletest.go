package analysis

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

// ErrNoRule is a rule id the set does not hold.
var ErrNoRule = errors.New("no such rule")

// ErrCorrelationTest refuses to test a correlation on single records:
// it counts matches of other rules over time.
var ErrCorrelationTest = errors.New("a correlation is tested with vigil scan over a file of events, not on single records")

// RuleTest is what one rule made of sample records.
type RuleTest struct {
	// Records were given; Rejected of them could not be decoded (with
	// why, by line).
	Records  int
	Rejected []Rejection
	// Matched are the lines (1-based) of the records the rule matched,
	// and Signals the signals it raised for them.
	Matched []int
	Signals []alert.Signal
}

// TestRule compiles the rule id of rs on its own and runs it over sample
// records of format, decoded as the source src would decode them: what
// matches, and what would be alerted, without storing anything.
func TestRule(rs *Rules, id, format string, records [][]byte, src tenant.Source) (RuleTest, error) {
	var r *rule.Rule
	for _, x := range rs.Engine.Rules() {
		if x.ID == id {
			r = x
			break
		}
	}
	if r == nil {
		if rs.corr != nil {
			for _, c := range rs.corr.list {
				if c.ID == id {
					return RuleTest{}, ErrCorrelationTest
				}
			}
		}
		return RuleTest{}, fmt.Errorf("rule %s: %w", id, ErrNoRule)
	}
	eng, errs := detect.Compile([]*rule.Rule{r}, detect.Options{})
	if len(errs) > 0 {
		return RuleTest{}, fmt.Errorf("compile rule %s: %w", id, errors.Join(errs...))
	}
	p := NewProcessor(NewRules(eng))
	p.Offline = "sample" // keeps no event; evidence names the sample's line
	b := &bus.Batch{ID: event.NewID(), Workspace: src.Workspace, Source: src.Name, Format: format, Received: time.Now().UTC()}
	for i, d := range records {
		b.Records = append(b.Records, event.Raw{ID: event.NewID(), Data: d, Line: i + 1})
	}
	res := p.Process(b, src)
	out := RuleTest{Records: len(records), Rejected: res.Rejected, Signals: res.Batch.Signals}
	for _, s := range res.Batch.Signals {
		if s.Rule.ID == id {
			out.Matched = append(out.Matched, s.Evidence.Line)
		}
	}
	return out, nil
}
