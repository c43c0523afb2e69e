package incident

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCheckStageEveryPair walks all 25 (from, to) pairs of the five stages:
// the legal ones are written out here, apart from the table in stage.go,
// so that a change of the table is a change of this test too.
func TestCheckStageEveryPair(t *testing.T) {
	legal := map[[2]Stage]bool{
		{StageDetect, StageAssess}:      true,
		{StageDetect, StageClose}:       true,
		{StageAssess, StageDiagnose}:    true,
		{StageAssess, StageClose}:       true,
		{StageDiagnose, StageStabilize}: true,
		{StageDiagnose, StageClose}:     true,
		{StageStabilize, StageDiagnose}: true,
		{StageStabilize, StageClose}:    true,
		{StageClose, StageAssess}:       true,
	}
	// The reason each refused pair gives (a fragment of it).
	reason := func(from, to Stage) string {
		switch {
		case from == to:
			return "in that stage already"
		case to == StageDetect:
			return "no incident goes back to detect"
		case from == StageDetect:
			return "assess the incident before"
		case from == StageClose:
			return "reopened into assess"
		case from == StageAssess:
			return "from assess an incident moves to diagnose or close"
		case from == StageDiagnose:
			return "from diagnose an incident moves to stabilize or close"
		case from == StageStabilize:
			return "from stabilize an incident moves to diagnose or close"
		}
		t.Fatalf("no reason for %s -> %s", from, to)
		return ""
	}
	n := 0
	for _, from := range Stages {
		for _, to := range Stages {
			err := CheckStage(from, to)
			if legal[[2]Stage{from, to}] {
				n++
				if err != nil {
					t.Errorf("%s -> %s: refused (%v), want allowed", from, to, err)
				}
				if !slices.Contains(from.Next(), to) {
					t.Errorf("%s.Next() = %v lacks %s", from, from.Next(), to)
				}
				continue
			}
			var se *StageError
			if !errors.As(err, &se) {
				t.Errorf("%s -> %s: err %v, want a *StageError", from, to, err)
				continue
			}
			if se.From != from || se.To != to {
				t.Errorf("%s -> %s: StageError names %s -> %s", from, to, se.From, se.To)
			}
			if want := reason(from, to); !strings.Contains(se.Reason, want) {
				t.Errorf("%s -> %s: reason %q, want it to say %q", from, to, se.Reason, want)
			}
			if slices.Contains(from.Next(), to) {
				t.Errorf("%s.Next() = %v holds the refused %s", from, from.Next(), to)
			}
		}
	}
	if n != len(legal) {
		t.Errorf("%d legal moves checked, want %d", n, len(legal))
	}
}

func TestCheckStageUnknown(t *testing.T) {
	for _, c := range []struct {
		from, to Stage
		want     string
	}{
		{"triage", StageAssess, `unknown current stage "triage"`},
		{StageDetect, "resolved", `unknown stage "resolved" (want detect, assess, diagnose, stabilize or close)`},
		{"", "", "unknown current stage"},
		{StageAssess, "Diagnose", `unknown stage "Diagnose"`},
	} {
		err := CheckStage(c.from, c.to)
		var se *StageError
		if !errors.As(err, &se) || !strings.Contains(se.Reason, c.want) {
			t.Errorf("CheckStage(%q, %q) = %v, want a StageError saying %q", c.from, c.to, err, c.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	want := map[Stage]Status{
		StageDetect: StatusNew, StageAssess: StatusActive, StageDiagnose: StatusActive,
		StageStabilize: StatusActive, StageClose: StatusClosed,
	}
	for _, s := range Stages {
		if got := StatusOf(s); got != want[s] {
			t.Errorf("StatusOf(%s) = %s, want %s", s, got, want[s])
		}
	}
}

func TestCheckClose(t *testing.T) {
	for _, c := range []struct {
		from   Stage
		class  Classification
		reason string
		want   string // "" allowed, else a fragment of the refusal
	}{
		{StageDetect, FalsePositive, "scanner of our own", ""},
		{StageDetect, BenignPositive, "pen test", ""},
		{StageAssess, FalsePositive, "rule too broad", ""},
		{StageAssess, BenignPositive, "admin at work", ""},
		{StageDiagnose, TruePositiveImpact, "data taken", ""},
		{StageDiagnose, TruePositiveNoImpact, "blocked in time", ""},
		{StageStabilize, TruePositiveImpact, "restored", ""},
		{StageStabilize, TruePositiveNoImpact, "contained", ""},
		{StageStabilize, FalsePositive, "turned out harmless", ""},
		// A true positive is diagnosed first.
		{StageDetect, TruePositiveImpact, "x", "diagnosed before it is closed"},
		{StageDetect, TruePositiveNoImpact, "x", "diagnosed before it is closed"},
		{StageAssess, TruePositiveImpact, "x", "diagnosed before it is closed"},
		{StageAssess, TruePositiveNoImpact, "x", "diagnosed before it is closed"},
		// Classification and reason are required.
		{StageDiagnose, "", "why", "closing needs a classification"},
		{StageDiagnose, "true_positive", "why", `got "true_positive"`},
		{StageDiagnose, FalsePositive, "", "closing needs a reason"},
		{StageDiagnose, FalsePositive, " \t\n", "closing needs a reason"},
		// The move itself must be legal.
		{StageClose, FalsePositive, "again", "in that stage already"},
		{"", FalsePositive, "x", "unknown current stage"},
	} {
		err := CheckClose(c.from, c.class, c.reason)
		if c.want == "" {
			if err != nil {
				t.Errorf("CheckClose(%s, %q, %q) = %v, want allowed", c.from, c.class, c.reason, err)
			}
			continue
		}
		var se *StageError
		if !errors.As(err, &se) || !strings.Contains(se.Reason, c.want) || se.To != StageClose {
			t.Errorf("CheckClose(%s, %q, %q) = %v, want a StageError to close saying %q", c.from, c.class, c.reason, err, c.want)
		}
	}
}

func TestClassification(t *testing.T) {
	for _, c := range Classifications {
		if !c.Valid() {
			t.Errorf("%s not valid", c)
		}
	}
	if Classification("true_positive").Valid() || Classification("").Valid() {
		t.Error("a made-up classification is valid")
	}
	if !TruePositiveImpact.TruePositive() || !TruePositiveNoImpact.TruePositive() || BenignPositive.TruePositive() || FalsePositive.TruePositive() {
		t.Error("TruePositive wrong")
	}
}
