package incident

import "github.com/vigil-sec/vigil/alert"

// Change is a responder's (or an automation rule's) change to an incident:
// each field set is one action, applied in the order of the fields below,
// each written to the timeline and the audit log. Apply (workflow.go)
// applies it to an incident and returns the timeline entries it makes; a
// change that is illegal as a whole (a refused stage move, a close
// without classification) changes nothing.
type Change struct {
	// Stage moves the incident (CheckStage); to StageClose it needs
	// Classification and Reason (CheckClose); from StageClose it reopens.
	Stage          *Stage         `json:"stage,omitempty"`
	Classification Classification `json:"classification,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	// Owner assigns the incident ("" unassigns).
	Owner *string `json:"owner,omitempty"`
	// AddTags and RemoveTags edit the tags.
	AddTags    []string `json:"add_tags,omitempty"`
	RemoveTags []string `json:"remove_tags,omitempty"`
	// Severity sets the severity by hand.
	Severity *alert.Severity `json:"severity,omitempty"`
	// Comment adds a comment.
	Comment string `json:"comment,omitempty"`
	// AddTask adds a task to the checklist of its stage (the current
	// stage when empty).
	AddTask *Task `json:"add_task,omitempty"`
	// TaskDone marks tasks done (true) or not done (false), by task id.
	TaskDone map[string]bool `json:"task_done,omitempty"`
	// Assessment replaces the sections named in Sections with the ones
	// given, and locks them against automatic fills.
	Assessment *Assessment `json:"assessment,omitempty"`
	Sections   []string    `json:"sections,omitempty"`
}
