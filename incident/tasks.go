package incident

import (
	"fmt"
	"strings"
)

// DefaultTaskTemplates are the checklists an incident gets on entering each
// stage when its workspace has not set its own (SetTaskTemplates). They
// follow the questions each stage answers, in the order a responder works
// through them.
func DefaultTaskTemplates() []TaskTemplate {
	return []TaskTemplate{
		{Stage: StageDetect, Tasks: []string{
			"Take the incident: assign an owner",
			"Read its alerts and their evidence events",
			"Check whether a suppression or a known benign activity explains it",
		}},
		{Stage: StageAssess, Tasks: []string{
			"Confirm the alerts are true: the evidence shows the activity the rules name",
			"Establish the origin: addresses, countries, networks, intelligence matches",
			"Judge the intent: targeted at us or random, and why",
			"List the systems affected and those where the attack succeeded",
			"List the files, tables and objects touched and their sensitivity",
			"Decide who must be told (owners of the systems, data protection, management)",
		}},
		{Stage: StageDiagnose, Tasks: []string{
			"Scope the attack: search the events of its entities before and after the alerts",
			"Find the way in and the weakness it used",
			"Find every account, host and credential the attacker touched",
			"Look for persistence: new accounts, keys, services, scheduled tasks, roles",
			"Record the indicators (addresses, hashes, domains) for blocking and hunting",
		}},
		{Stage: StageStabilize, Tasks: []string{
			"Contain: block the origin, isolate the hosts, disable or reset the accounts",
			"Eradicate: remove what the attacker left and close the weakness",
			"Recover: restore the systems and data and bring the services back",
			"Watch the entities for a return of the activity",
		}},
		{Stage: StageClose, Tasks: []string{
			"Write down what happened, its impact and the classification's reason",
			"Lessons learnt: what would have detected or stopped it sooner",
			"Turn the lessons into changes: rules, suppressions, configuration, training",
		}},
	}
}

// Task template limits: a checklist longer than this is no longer read.
const (
	maxTemplateTasks = 50
	maxTaskTitle     = 200
)

// CheckTaskTemplates returns nil when templates may be stored as a
// workspace's: each names a known stage once, and each task title is
// non-empty, at most 200 characters and given once in its stage.
func CheckTaskTemplates(templates []TaskTemplate) error {
	seen := map[Stage]bool{}
	for _, t := range templates {
		if !t.Stage.Valid() {
			return fmt.Errorf("task template: unknown stage %q (want %s)", t.Stage, stageList(Stages[:]))
		}
		if seen[t.Stage] {
			return fmt.Errorf("task template: stage %s given twice", t.Stage)
		}
		seen[t.Stage] = true
		if len(t.Tasks) > maxTemplateTasks {
			return fmt.Errorf("task template of %s: %d tasks, at most %d", t.Stage, len(t.Tasks), maxTemplateTasks)
		}
		titles := map[string]bool{}
		for _, title := range t.Tasks {
			if err := checkTaskTitle(title); err != nil {
				return fmt.Errorf("task template of %s: %w", t.Stage, err)
			}
			if titles[title] {
				return fmt.Errorf("task template of %s: task %q given twice", t.Stage, title)
			}
			titles[title] = true
		}
	}
	return nil
}

func checkTaskTitle(title string) error {
	switch {
	case strings.TrimSpace(title) == "":
		return fmt.Errorf("a task needs a title")
	case len(title) > maxTaskTitle:
		return fmt.Errorf("task title of %d bytes, at most %d", len(title), maxTaskTitle)
	case strings.ContainsAny(title, "\r\n"):
		return fmt.Errorf("task title %q: one line only", title)
	}
	return nil
}

// TasksFor makes the tasks of stage's template, not done, each with an id
// from newID; none when templates have no checklist for stage.
func TasksFor(templates []TaskTemplate, stage Stage, newID func() string) []Task {
	var out []Task
	for _, t := range templates {
		if t.Stage != stage {
			continue
		}
		for _, title := range t.Tasks {
			out = append(out, Task{ID: newID(), Stage: stage, Title: title})
		}
	}
	return out
}

// AddStageTasks adds to inc the tasks of stage's template that it does not
// hold yet (by stage and title): an incident entering a stage a second
// time, in a Diagnose ⇄ Stabilize loop or after a reopen, keeps the
// checklist it had, done items done, rather than getting it twice. It
// returns how many it added. Apply calls it on every move; correlation
// calls it when a new alert reopens an incident into assess.
func AddStageTasks(inc *Incident, templates []TaskTemplate, stage Stage, newID func() string) int {
	have := map[string]bool{}
	for _, t := range inc.Tasks {
		if t.Stage == stage {
			have[t.Title] = true
		}
	}
	n := 0
	for _, t := range TasksFor(templates, stage, newID) {
		if have[t.Title] {
			continue
		}
		have[t.Title] = true
		inc.Tasks = append(inc.Tasks, t)
		n++
	}
	return n
}

// StartTasks gives a new incident, in inc.Stage, the tasks of that stage's
// template; correlation and CreateIncident call it on a new incident.
func StartTasks(inc *Incident, templates []TaskTemplate, newID func() string) {
	AddStageTasks(inc, templates, inc.Stage, newID)
}
