package incident

import (
	"fmt"
	"strings"
)

// Stage is where an incident stands in the response.
type Stage string

const (
	// StageDetect: raised, nobody has looked at it yet.
	StageDetect Stage = "detect"
	// StageAssess: a responder works out the nature, origin and intent of
	// the attack and what it reached.
	StageAssess Stage = "assess"
	// StageDiagnose: finding the cause and extent (the responder goes back
	// and forth between Diagnose and Stabilize).
	StageDiagnose Stage = "diagnose"
	// StageStabilize: containing and recovering.
	StageStabilize Stage = "stabilize"
	// StageClose: closed with a classification and a reason.
	StageClose Stage = "close"
)

// Stages are every stage, in response order.
var Stages = [...]Stage{StageDetect, StageAssess, StageDiagnose, StageStabilize, StageClose}

// Status is the coarse state of an incident, as lists filter on it.
type Status string

const (
	StatusNew    Status = "new"
	StatusActive Status = "active"
	StatusClosed Status = "closed"
)

// Statuses are every status.
var Statuses = [...]Status{StatusNew, StatusActive, StatusClosed}

// StatusOf maps a stage to its status: Detect is new, Close is closed,
// the stages between are active.
func StatusOf(s Stage) Status {
	switch s {
	case StageDetect:
		return StatusNew
	case StageClose:
		return StatusClosed
	default:
		return StatusActive
	}
}

// Valid reports whether s is one of the five stages.
func (s Stage) Valid() bool {
	for _, v := range Stages {
		if s == v {
			return true
		}
	}
	return false
}

// stageMoves is the response workflow: the stages each stage may move to.
//
//	detect    → assess, close          (take it up; or close a false or benign positive at once)
//	assess    → diagnose, close
//	diagnose  → stabilize, close
//	stabilize → diagnose, close        (Diagnose ⇄ Stabilize as often as needed)
//	close     → assess                 (reopen: new evidence is assessed first)
//
// Nothing moves back to detect (somebody has looked at it), nor skips the
// assessment. Closing as a true positive further needs the incident to
// have been diagnosed or stabilized (CheckClose).
var stageMoves = map[Stage][]Stage{
	StageDetect:    {StageAssess, StageClose},
	StageAssess:    {StageDiagnose, StageClose},
	StageDiagnose:  {StageStabilize, StageClose},
	StageStabilize: {StageDiagnose, StageClose},
	StageClose:     {StageAssess},
}

// Next returns the stages s may move to.
func (s Stage) Next() []Stage { return append([]Stage(nil), stageMoves[s]...) }

// StageError is an illegal move, with the reason it is refused.
type StageError struct {
	From, To Stage
	Reason   string
}

func (e *StageError) Error() string {
	return fmt.Sprintf("stage %s -> %s refused: %s", e.From, e.To, e.Reason)
}

// CheckStage returns nil when an incident in stage from may move to stage
// to, else a *StageError saying why not. Staying in a stage is refused
// too: a move that changes nothing is a mistake worth telling.
func CheckStage(from, to Stage) error {
	switch {
	case !from.Valid():
		return &StageError{From: from, To: to, Reason: fmt.Sprintf("unknown current stage %q", from)}
	case !to.Valid():
		return &StageError{From: from, To: to, Reason: fmt.Sprintf("unknown stage %q (want %s)", to, stageList(Stages[:]))}
	case from == to:
		return &StageError{From: from, To: to, Reason: "the incident is in that stage already"}
	}
	for _, s := range stageMoves[from] {
		if s == to {
			return nil
		}
	}
	var reason string
	switch {
	case to == StageDetect:
		reason = "no incident goes back to detect once somebody has looked at it"
	case from == StageDetect && (to == StageDiagnose || to == StageStabilize):
		reason = "assess the incident before diagnosing or stabilizing it"
	case from == StageClose:
		reason = "a closed incident is reopened into assess"
	default:
		reason = fmt.Sprintf("from %s an incident moves to %s", from, stageList(stageMoves[from]))
	}
	return &StageError{From: from, To: to, Reason: reason}
}

// CheckClose returns nil when an incident in stage from may be closed with
// classification c and reason, else a *StageError saying why not: a
// classification and a reason are required, and a true positive is
// diagnosed before it is closed (closed from diagnose or stabilize).
func CheckClose(from Stage, c Classification, reason string) error {
	if err := CheckStage(from, StageClose); err != nil {
		return err
	}
	switch {
	case !c.Valid():
		return &StageError{From: from, To: StageClose, Reason: fmt.Sprintf("closing needs a classification (%s), got %q", classList(), c)}
	case strings.TrimSpace(reason) == "":
		return &StageError{From: from, To: StageClose, Reason: "closing needs a reason"}
	case c.TruePositive() && (from == StageDetect || from == StageAssess):
		return &StageError{From: from, To: StageClose, Reason: "a true positive is diagnosed before it is closed: move it to diagnose first"}
	}
	return nil
}

func stageList(ss []Stage) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func classList() string {
	names := make([]string, len(Classifications))
	for i, c := range Classifications {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
