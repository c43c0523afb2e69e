package alert

import (
	"fmt"
	"strings"
)

// Status is where an alert stands in triage.
type Status string

const (
	// StatusNew: raised, nobody has looked at it yet.
	StatusNew Status = "new"
	// StatusActive: an analyst has taken it in hand (or reopened it).
	StatusActive Status = "active"
	// StatusResolved: a real finding, handled.
	StatusResolved Status = "resolved"
	// StatusDismissed: not worth acting on (false or benign positive,
	// duplicate).
	StatusDismissed Status = "dismissed"
)

// Statuses are every status, in workflow order.
var Statuses = [...]Status{StatusNew, StatusActive, StatusResolved, StatusDismissed}

// openStatuses are the statuses of an alert still being worked on: new
// signals of its dedup key join it, and retention keeps the events it names
// as evidence. Defined once: the store builds its SQL from it (OpenStatuses).
var openStatuses = [...]Status{StatusNew, StatusActive}

// OpenStatuses returns the open statuses (a copy the caller may keep).
func OpenStatuses() []Status { return append([]Status(nil), openStatuses[:]...) }

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Open reports whether new signals still join an alert of this status.
func (s Status) Open() bool {
	for _, v := range openStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// transitions is the triage workflow: the statuses each status may move to
// besides itself. A move to the status an alert has is always legal (a
// retried request changes nothing; a closed alert may be given another
// classification that way).
//
//	new      → active, resolved, dismissed   (triage: take it, or close it at once)
//	active   → resolved, dismissed           (close it)
//	resolved → active, dismissed             (reopen; reclassify as not worth acting on)
//	dismissed→ active, resolved              (reopen; reclassify as a real finding)
//
// No status moves back to new: "new" says nobody has looked at the alert,
// which stops being true once anybody has. A closed alert is reopened as
// active, since whoever reopens it is working on it.
var transitions = map[Status][]Status{
	StatusNew:       {StatusActive, StatusResolved, StatusDismissed},
	StatusActive:    {StatusResolved, StatusDismissed},
	StatusResolved:  {StatusActive, StatusDismissed},
	StatusDismissed: {StatusActive, StatusResolved},
}

// TransitionError is an illegal status change, with the reason it is
// refused.
type TransitionError struct {
	From, To Status
	Reason   string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("status %s -> %s refused: %s", e.From, e.To, e.Reason)
}

// Next returns the statuses from may move to, itself aside.
func (s Status) Next() []Status { return append([]Status(nil), transitions[s]...) }

// CheckTransition returns nil when an alert of status from may move to
// status to, else a *TransitionError saying why not.
func CheckTransition(from, to Status) error {
	switch {
	case !from.Valid():
		return &TransitionError{From: from, To: to, Reason: fmt.Sprintf("unknown current status %q", from)}
	case !to.Valid():
		return &TransitionError{From: from, To: to, Reason: fmt.Sprintf("unknown status %q (want %s)", to, statusList(Statuses[:]))}
	case from == to:
		return nil
	}
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	reason := fmt.Sprintf("from %s an alert moves to %s", from, statusList(transitions[from]))
	if to == StatusNew {
		reason = "no alert becomes new again once triage has begun; reopen a closed alert as active"
	}
	return &TransitionError{From: from, To: to, Reason: reason}
}

func statusList(ss []Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
