package alert

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckTransitionEveryPair checks every ordered pair of statuses against
// the workflow written out here on its own, so that a change to the table
// in status.go shows up as a failing pair.
func TestCheckTransitionEveryPair(t *testing.T) {
	legal := map[[2]Status]bool{
		{StatusNew, StatusNew}: true, {StatusNew, StatusActive}: true, {StatusNew, StatusResolved}: true, {StatusNew, StatusDismissed}: true,
		{StatusActive, StatusActive}: true, {StatusActive, StatusResolved}: true, {StatusActive, StatusDismissed}: true,
		{StatusResolved, StatusResolved}: true, {StatusResolved, StatusActive}: true, {StatusResolved, StatusDismissed}: true,
		{StatusDismissed, StatusDismissed}: true, {StatusDismissed, StatusActive}: true, {StatusDismissed, StatusResolved}: true,
	}
	n := 0
	for _, from := range Statuses {
		for _, to := range Statuses {
			n++
			err := CheckTransition(from, to)
			if legal[[2]Status{from, to}] {
				if err != nil {
					t.Errorf("%s -> %s: %v, want legal", from, to, err)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Errorf("%s -> %s: err = %v, want a *TransitionError", from, to, err)
				continue
			}
			if te.From != from || te.To != to || te.Reason == "" {
				t.Errorf("%s -> %s: %+v", from, to, te)
			}
			if to == StatusNew && !strings.Contains(te.Reason, "reopen") {
				t.Errorf("%s -> new: reason %q does not say how to reopen", from, te.Reason)
			}
		}
	}
	if n != 16 {
		t.Fatalf("checked %d pairs, want 16", n)
	}
}

func TestCheckTransitionUnknown(t *testing.T) {
	for _, c := range [][2]Status{{"closed", StatusActive}, {StatusNew, "closed"}, {"", StatusNew}} {
		var te *TransitionError
		if err := CheckTransition(c[0], c[1]); !errors.As(err, &te) {
			t.Errorf("%q -> %q: err = %v, want refused", c[0], c[1], err)
		}
	}
}

func TestOpenStatuses(t *testing.T) {
	open := OpenStatuses()
	if len(open) != 2 || open[0] != StatusNew || open[1] != StatusActive {
		t.Fatalf("OpenStatuses() = %v", open)
	}
	open[0] = StatusDismissed // a copy: the definition stays
	if OpenStatuses()[0] != StatusNew {
		t.Fatal("OpenStatuses returned the definition itself")
	}
	for _, s := range Statuses {
		want := s == StatusNew || s == StatusActive
		if s.Open() != want {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
	// Every open status can be closed, and every closed one reopened.
	for _, s := range Statuses {
		if len(s.Next()) == 0 {
			t.Errorf("%s is a dead end", s)
		}
	}
}
