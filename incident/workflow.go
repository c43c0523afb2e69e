package incident

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-sec/vigil/alert"
)

// ErrInvalidChange is a change that is malformed (an unknown task id, a
// bad tag, an empty comment…), as opposed to a refused stage move, which
// is a *StageError.
var ErrInvalidChange = errors.New("invalid incident change")

// Limits on what a responder writes, so that one change cannot bloat an
// incident's document.
const (
	maxTags    = 50
	maxTag     = 64
	maxOwner   = 200
	maxComment = 10000
	maxReason  = 2000
)

// Apply applies ch to inc as actor at now, and returns one timeline entry
// for each action it took (Actor actor, Time now), in the order of
// Change's fields. It checks the whole change before it touches inc: a
// refused stage move returns the *StageError, any other fault an error
// wrapping ErrInvalidChange, and inc is then as it was. An action that
// changes nothing (assigning the owner it has, marking a done task done)
// makes no entry; a change whose actions all change nothing returns no
// entries and no error, so that a retried request is harmless.
//
// Moving to close sets Classification, CloseReason and Closed; moving out
// of close reopens: Closed is cleared, Reopened counted, and the old
// classification kept for the record until the next close. Entering a
// stage adds its template tasks the incident does not have yet (so that a
// Diagnose ⇄ Stabilize loop does not repeat them). An assessment edit
// replaces the named sections and locks them against automatic fills.
func Apply(inc *Incident, ch Change, templates []TaskTemplate, actor string, now time.Time, newID func() string) ([]TimelineEntry, error) {
	if err := check(inc, ch, actor); err != nil {
		return nil, err
	}
	w := workflow{inc: inc, actor: actor, now: now}
	if ch.Stage != nil {
		w.stage(*ch.Stage, ch.Classification, ch.Reason, templates, newID)
	}
	if ch.Owner != nil {
		w.owner(*ch.Owner)
	}
	if len(ch.AddTags)+len(ch.RemoveTags) > 0 {
		w.tags(ch.AddTags, ch.RemoveTags)
	}
	if ch.Severity != nil {
		w.severity(*ch.Severity)
	}
	if ch.Comment != "" {
		w.add(TimelineComment, "comment", ch.Comment)
	}
	if ch.AddTask != nil {
		w.addTask(*ch.AddTask, newID)
	}
	if len(ch.TaskDone) > 0 {
		w.taskDone(ch.TaskDone)
	}
	if ch.Assessment != nil {
		w.assessment(*ch.Assessment, ch.Sections)
	}
	if len(w.entries) > 0 {
		inc.Updated = now
	}
	return w.entries, nil
}

// check validates the whole change against inc.
func check(inc *Incident, ch Change, actor string) error {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidChange, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(actor) == "" {
		return invalid("a change needs an actor")
	}
	if isEmpty(ch) {
		return invalid("the change names nothing to change")
	}
	if ch.Stage != nil {
		to := *ch.Stage
		if inc.MergedInto != "" {
			return &StageError{From: inc.Stage, To: to, Reason: fmt.Sprintf("the incident was merged into %s: work on that one", inc.MergedInto)}
		}
		if to == StageClose {
			if err := CheckClose(inc.Stage, ch.Classification, ch.Reason); err != nil {
				return err
			}
		} else if err := CheckStage(inc.Stage, to); err != nil {
			return err
		}
	}
	if (ch.Stage == nil || *ch.Stage != StageClose) && (ch.Classification != "" || ch.Reason != "") {
		return invalid("a classification and a reason go with a move to close")
	}
	if len(ch.Reason) > maxReason {
		return invalid("close reason of %d bytes, at most %d", len(ch.Reason), maxReason)
	}
	if ch.Owner != nil {
		if err := checkLine("owner", *ch.Owner, maxOwner); err != nil {
			return invalid("%v", err)
		}
	}
	for _, t := range ch.AddTags {
		if err := CheckTag(t); err != nil {
			return invalid("%v", err)
		}
		if slices.Contains(ch.RemoveTags, t) {
			return invalid("tag %q both added and removed", t)
		}
	}
	for _, t := range ch.RemoveTags {
		if err := CheckTag(t); err != nil {
			return invalid("%v", err)
		}
	}
	if n := len(mergeTags(inc.Tags, ch.AddTags, ch.RemoveTags)); n > maxTags {
		return invalid("%d tags, at most %d", n, maxTags)
	}
	if ch.Severity != nil && (*ch.Severity < alert.Informational || *ch.Severity > alert.Critical) {
		return invalid("unknown severity %d", int(*ch.Severity))
	}
	if ch.Comment != "" {
		switch {
		case strings.TrimSpace(ch.Comment) == "":
			return invalid("the comment is blank")
		case len(ch.Comment) > maxComment:
			return invalid("comment of %d bytes, at most %d", len(ch.Comment), maxComment)
		}
	}
	if t := ch.AddTask; t != nil {
		if t.Stage != "" && !t.Stage.Valid() {
			return invalid("task for unknown stage %q (want %s)", t.Stage, stageList(Stages[:]))
		}
		if err := checkTaskTitle(t.Title); err != nil {
			return invalid("%v", err)
		}
	}
	for id := range ch.TaskDone {
		if !slices.ContainsFunc(inc.Tasks, func(t Task) bool { return t.ID == id }) {
			return invalid("no task %q on incident %s", id, inc.ID)
		}
	}
	switch {
	case ch.Assessment == nil && len(ch.Sections) > 0:
		return invalid("sections %s named without an assessment", strings.Join(ch.Sections, ", "))
	case ch.Assessment != nil && len(ch.Sections) == 0:
		return invalid("an assessment edit names the sections it replaces (%s)", strings.Join(sections[:], ", "))
	}
	for i, s := range ch.Sections {
		if !slices.Contains(sections[:], s) {
			return invalid("unknown assessment section %q (want %s)", s, strings.Join(sections[:], ", "))
		}
		if slices.Contains(ch.Sections[:i], s) {
			return invalid("assessment section %q named twice", s)
		}
	}
	return nil
}

func isEmpty(ch Change) bool {
	return ch.Stage == nil && ch.Classification == "" && ch.Reason == "" && ch.Owner == nil &&
		len(ch.AddTags) == 0 && len(ch.RemoveTags) == 0 && ch.Severity == nil && ch.Comment == "" &&
		ch.AddTask == nil && len(ch.TaskDone) == 0 && ch.Assessment == nil && len(ch.Sections) == 0
}

// sections are the assessment's sections, as Change.Sections and
// Assessment.Locked name them.
var sections = [...]string{SectionNature, SectionOrigin, SectionIntent, SectionCompromised, SectionDataAccessed}

// CheckTag returns nil when t is a well-formed tag: 1 to 64 characters,
// lower-case letters, digits and - _ . : /, beginning with a letter or
// digit — so that a tag reads the same in a list, a filter and a URL.
func CheckTag(t string) error {
	if t == "" || len(t) > maxTag {
		return fmt.Errorf("tag %q: 1 to %d characters", t, maxTag)
	}
	for i, r := range t {
		ok := r < unicode.MaxASCII && (unicode.IsLower(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("-_.:/", r)))
		if !ok {
			return fmt.Errorf("tag %q: lower-case letters, digits and - _ . : / only, beginning with a letter or digit", t)
		}
	}
	return nil
}

// checkLine checks a one-line value a responder gives.
func checkLine(what, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%s of %d bytes, at most %d", what, len(v), limit)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s %q: control characters are not allowed", what, v)
	}
	return nil
}

// mergeTags returns tags with add added (once each) and remove removed.
func mergeTags(tags, add, remove []string) []string {
	out := make([]string, 0, len(tags)+len(add))
	for _, t := range tags {
		if !slices.Contains(remove, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, t := range add {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// workflow applies a checked change's actions and collects their entries.
type workflow struct {
	inc     *Incident
	actor   string
	now     time.Time
	entries []TimelineEntry
}

func (w *workflow) add(kind, summary, text string) *TimelineEntry {
	w.entries = append(w.entries, TimelineEntry{
		IncidentID: w.inc.ID, Time: w.now, Kind: kind, Actor: w.actor, Summary: summary, Text: text,
	})
	return &w.entries[len(w.entries)-1]
}

func (w *workflow) stage(to Stage, c Classification, reason string, templates []TaskTemplate, newID func() string) {
	inc := w.inc
	from := inc.Stage
	inc.Stage, inc.Status = to, StatusOf(to)
	var e *TimelineEntry
	switch {
	case to == StageClose:
		closed := w.now
		inc.Classification, inc.CloseReason, inc.Closed = c, reason, &closed
		e = w.add(TimelineStage, fmt.Sprintf("closed as %s", c), reason)
	case from == StageClose:
		inc.Closed = nil
		inc.Reopened++
		e = w.add(TimelineReopened, fmt.Sprintf("reopened into %s (was closed as %s)", to, inc.Classification), "")
	default:
		e = w.add(TimelineStage, fmt.Sprintf("moved from %s to %s", from, to), "")
	}
	e.Stage = to
	if n := AddStageTasks(inc, templates, to, newID); n > 0 {
		e.Summary += fmt.Sprintf("; %d %s of the %s checklist added", n, plural(n, "task", "tasks"), to)
	}
}

func (w *workflow) owner(owner string) {
	if owner == w.inc.Owner {
		return
	}
	w.inc.Owner = owner
	if owner == "" {
		w.add(TimelineOwner, "unassigned", "")
		return
	}
	w.add(TimelineOwner, "assigned to "+owner, "")
}

func (w *workflow) tags(add, remove []string) {
	var words []string
	for _, t := range add {
		if !slices.Contains(w.inc.Tags, t) && !slices.Contains(words, "+"+t) {
			words = append(words, "+"+t)
		}
	}
	for _, t := range remove {
		if slices.Contains(w.inc.Tags, t) && !slices.Contains(words, "-"+t) {
			words = append(words, "-"+t)
		}
	}
	if len(words) == 0 {
		return
	}
	w.inc.Tags = mergeTags(w.inc.Tags, add, remove)
	w.add(TimelineTag, "tags "+strings.Join(words, " "), "")
}

func (w *workflow) severity(s alert.Severity) {
	if s == w.inc.Severity {
		return
	}
	w.add(TimelineSeverity, fmt.Sprintf("severity set from %s to %s", w.inc.Severity, s), "")
	w.inc.Severity = s
}

func (w *workflow) addTask(t Task, newID func() string) {
	if t.Stage == "" {
		t.Stage = w.inc.Stage
	}
	task := Task{ID: newID(), Stage: t.Stage, Title: t.Title}
	w.inc.Tasks = append(w.inc.Tasks, task)
	e := w.add(TimelineTask, fmt.Sprintf("task added to %s: %s", task.Stage, task.Title), "")
	e.Stage = task.Stage
}

// taskDone marks tasks in the incident's order, so that the entries come
// out the same whatever the map's order.
func (w *workflow) taskDone(done map[string]bool) {
	for i := range w.inc.Tasks {
		t := &w.inc.Tasks[i]
		d, ok := done[t.ID]
		if !ok || d == t.Done {
			continue
		}
		t.Done = d
		if d {
			at := w.now
			t.DoneBy, t.DoneAt = w.actor, &at
			w.add(TimelineTask, "task done: "+t.Title, "").Stage = t.Stage
		} else {
			t.DoneBy, t.DoneAt = "", nil
			w.add(TimelineTask, "task not done: "+t.Title, "").Stage = t.Stage
		}
	}
}

func (w *workflow) assessment(a Assessment, names []string) {
	cur := &w.inc.Assessment
	for _, s := range names {
		switch s {
		case SectionNature:
			cur.Nature = a.Nature
		case SectionOrigin:
			cur.Origin = a.Origin
		case SectionIntent:
			cur.Intent = a.Intent
		case SectionCompromised:
			cur.Compromised = a.Compromised
		case SectionDataAccessed:
			cur.DataAccessed = a.DataAccessed
		}
		if !slices.Contains(cur.Locked, s) {
			cur.Locked = append(cur.Locked, s)
		}
	}
	cur.Updated = w.now
	w.add(TimelineAssessment, "assessment edited: "+strings.Join(names, ", "), "")
}

// KeepLocked returns auto, the assessment worked out from the evidence,
// with the sections stored has Locked taken from stored: a responder's
// edit stands until the responder changes it again.
func KeepLocked(stored, auto Assessment) Assessment {
	out := auto
	for _, s := range stored.Locked {
		switch s {
		case SectionNature:
			out.Nature = stored.Nature
		case SectionOrigin:
			out.Origin = stored.Origin
		case SectionIntent:
			out.Intent = stored.Intent
		case SectionCompromised:
			out.Compromised = stored.Compromised
		case SectionDataAccessed:
			out.DataAccessed = stored.DataAccessed
		}
	}
	out.Locked = append([]string(nil), stored.Locked...)
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
