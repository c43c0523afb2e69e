package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// cliActor is who the incident commands act as, on the timeline and in the
// audit log.
const cliActor = "cli"

// newIncidentsCmd works a workspace's incidents in the data directory's
// store, as /api/v1/incidents does (timeline and audit log, actor cli).
func newIncidentsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "incidents", Short: "List, show and work incidents: assign, stage, comment, tag, task, close, merge, split, create"}
	cmd.AddCommand(newIncidentsListCmd(), newIncidentsShowCmd(), newIncidentsAssignCmd(), newIncidentsStageCmd(),
		newIncidentsCommentCmd(), newIncidentsTagCmd(), newIncidentsTaskCmd(), newIncidentsCloseCmd(), newIncidentsMergeCmd(),
		newIncidentsSplitCmd(), newIncidentsCreateCmd())
	return cmd
}

// incidentCmd is one incidents subcommand: the workspace flag, the store
// flags, and run given the workspace's incident store.
func incidentCmd(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			st, ok := any(db).(store.Incidents)
			if !ok {
				return errors.New("this store keeps no incidents")
			}
			if _, err := db.Workspace(cmd.Context(), ws); err != nil {
				return err
			}
			return run(cmd, st, ws, args)
		},
	}
	c.Flags().String("workspace", "", "workspace (required)")
	_ = c.MarkFlagRequired("workspace")
	addStoreFlags(c)
	return c
}

func newIncidentsListCmd() *cobra.Command {
	c := incidentCmd("list", "List a workspace's incidents, last seen (or highest priority) first", cobra.NoArgs,
		func(cmd *cobra.Command, st store.Incidents, ws string, _ []string) error {
			q, err := incidentQuery(cmd)
			if err != nil {
				return err
			}
			list, _, err := st.Incidents(cmd.Context(), ws, q)
			if err != nil {
				return err
			}
			total, err := st.CountIncidents(cmd.Context(), ws, q)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(out)
				for _, inc := range list {
					if err := enc.Encode(inc); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTAGE\tSEVERITY\tPRIORITY\tALERTS\tOWNER\tLAST SEEN\tTITLE")
			for _, inc := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", inc.ID, inc.Stage, inc.Severity, inc.Priority, inc.AlertCount,
					orDash(inc.Owner), inc.LastSeen.UTC().Format(time.RFC3339), inc.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if total > len(list) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %s shown; raise --limit or narrow the filters\n", len(list), count(total, "incident", "incidents"))
			}
			return nil
		})
	f := c.Flags()
	f.StringSlice("stage", nil, "keep incidents in these stages (detect, assess, diagnose, stabilize, close); repeat or comma-separate")
	f.StringSlice("status", nil, "keep incidents of these statuses (new, active, closed); repeat or comma-separate")
	f.String("severity", "", "keep incidents of this severity or higher (informational, low, medium, high, critical)")
	f.String("owner", "", "keep incidents assigned to this owner")
	f.String("tag", "", "keep incidents with this tag")
	f.String("entity", "", "keep incidents about this entity value (an address, host, account…)")
	f.String("since", "", "keep incidents last seen at or after this time: a duration before now (24h) or an RFC 3339 time")
	f.String("until", "", "keep incidents last seen before this time: a duration before now or an RFC 3339 time")
	f.String("sort", store.IncidentSortLastSeen, "order: last_seen (last seen first) or priority (highest first)")
	f.Int("limit", 100, "incidents to list, 1 to 1000")
	f.Bool("json", false, "print the incidents as NDJSON, one a line")
	return c
}

// incidentQuery reads list's filter flags.
func incidentQuery(cmd *cobra.Command) (store.IncidentQuery, error) {
	f := cmd.Flags()
	var q store.IncidentQuery
	stages, _ := f.GetStringSlice("stage")
	for _, s := range stages {
		if !incident.Stage(s).Valid() {
			return q, fmt.Errorf("--stage %q: want detect, assess, diagnose, stabilize or close", s)
		}
		q.Stage = append(q.Stage, incident.Stage(s))
	}
	statuses, _ := f.GetStringSlice("status")
	for _, s := range statuses {
		if !slices.Contains(incident.Statuses[:], incident.Status(s)) {
			return q, fmt.Errorf("--status %q: want new, active or closed", s)
		}
		q.Status = append(q.Status, incident.Status(s))
	}
	if v, _ := f.GetString("severity"); v != "" {
		sev, err := alert.ParseSeverity(v)
		if err != nil {
			return q, fmt.Errorf("--severity: %w", err)
		}
		q.MinSeverity = &sev
	}
	q.Owner, _ = f.GetString("owner")
	q.Tag, _ = f.GetString("tag")
	q.Entity, _ = f.GetString("entity")
	now := time.Now()
	for _, t := range []struct {
		flag string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		v, _ := f.GetString(t.flag)
		if v == "" {
			continue
		}
		at, err := pastTime(v, now)
		if err != nil {
			return q, fmt.Errorf("--%s: %w", t.flag, err)
		}
		*t.to = at
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, errors.New("--until must be after --since")
	}
	q.Sort, _ = f.GetString("sort")
	if q.Sort != store.IncidentSortLastSeen && q.Sort != store.IncidentSortPriority {
		return q, fmt.Errorf("--sort %q: want last_seen or priority", q.Sort)
	}
	q.Limit, _ = f.GetInt("limit")
	if q.Limit < 1 || q.Limit > 1000 {
		return q, fmt.Errorf("--limit %d: want 1 to 1000", q.Limit)
	}
	return q, nil
}

// pastTime reads a duration before now (24h) or an RFC 3339 time.
func pastTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a duration before now (24h) or an RFC 3339 time (2026-03-01T00:00:00Z)", v)
	}
	return t.UTC(), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// incidentView is show --json's document.
type incidentView struct {
	Incident incident.Incident        `json:"incident"`
	Timeline []incident.TimelineEntry `json:"timeline"`
}

func newIncidentsShowCmd() *cobra.Command {
	c := incidentCmd("show ID", "Show an incident: stage, severity, tactics, entities, assessment, tasks and its last timeline entries", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			inc, err := st.Incident(cmd.Context(), ws, args[0])
			if err != nil {
				return err
			}
			n, _ := cmd.Flags().GetInt("timeline")
			if n < 0 {
				return fmt.Errorf("--timeline %d: want 0 or more", n)
			}
			tl, err := lastTimeline(cmd.Context(), st, ws, inc.ID, n)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(incidentView{Incident: inc, Timeline: tl})
			}
			printIncident(cmd.OutOrStdout(), inc, tl)
			return nil
		})
	c.Flags().Int("timeline", 10, "how many of the last timeline entries to show (0: none)")
	c.Flags().Bool("json", false, "print the incident and those entries as one JSON object")
	return c
}

// lastTimeline returns the last n stored timeline entries, oldest first.
func lastTimeline(ctx context.Context, st store.Incidents, ws, id string, n int) ([]incident.TimelineEntry, error) {
	out := []incident.TimelineEntry{}
	if n == 0 {
		return out, nil
	}
	cursor := ""
	for {
		page, next, err := st.Timeline(ctx, ws, id, store.TimelineQuery{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) > n {
			out = slices.Delete(out, 0, len(out)-n)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

func printIncident(w io.Writer, inc incident.Incident, tl []incident.TimelineEntry) {
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-14s %s\n", label+":", v)
		}
	}
	fmt.Fprintf(w, "%s  %s\n", inc.ID, inc.Title)
	line("stage", fmt.Sprintf("%s (%s)", inc.Stage, inc.Status))
	if inc.Stage == incident.StageClose {
		line("closed as", fmt.Sprintf("%s: %s", inc.Classification, inc.CloseReason))
	}
	if inc.MergedInto != "" {
		line("merged into", inc.MergedInto)
	}
	line("severity", inc.Severity.String())
	line("priority", fmt.Sprint(inc.Priority))
	line("owner", orDash(inc.Owner))
	line("tags", strings.Join(inc.Tags, ", "))
	line("alerts", fmt.Sprint(inc.AlertCount))
	line("seen", inc.FirstSeen.UTC().Format(time.RFC3339)+" .. "+inc.LastSeen.UTC().Format(time.RFC3339))
	line("tactics", strings.Join(inc.Tactics, " > "))
	line("techniques", strings.Join(inc.Techniques, ", "))
	var ents []string
	for _, e := range inc.Entities {
		ents = append(ents, e.Type+" "+e.Value)
	}
	line("entities", strings.Join(ents, ", "))

	as := inc.Assessment
	fmt.Fprintln(w, "assessment:")
	sub := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", label+":", v)
		}
	}
	nature := as.Nature.Summary
	if nature == "" {
		nature = strings.Join(as.Nature.AlertTypes, ", ")
	}
	sub("nature", nature)
	origin := as.Origin.Summary
	if origin == "" {
		origin = strings.Join(slices.Concat(as.Origin.Addresses, as.Origin.Countries, as.Origin.Networks), ", ")
	}
	sub("origin", origin)
	if as.Intent.Estimate != "" {
		intent := as.Intent.Estimate
		if len(as.Intent.Reasons) > 0 {
			intent += " (" + strings.Join(as.Intent.Reasons, "; ") + ")"
		}
		sub("intent", intent)
	}
	for _, c := range as.Compromised {
		sub("compromised", fmt.Sprintf("%s %s: %s", c.Entity.Type, c.Entity.Value, c.Reason))
	}
	for _, d := range as.DataAccessed {
		name := d.Name
		if d.Container != "" {
			name = d.Container + "/" + d.Name
		}
		sub("data", fmt.Sprintf("%s %s [%s] %s", d.Kind, name, d.Sensitivity, d.Action))
	}
	if len(as.Locked) > 0 {
		sub("edited", strings.Join(as.Locked, ", "))
	}
	if nature == "" && origin == "" && as.Intent.Estimate == "" && len(as.Compromised) == 0 && len(as.DataAccessed) == 0 {
		fmt.Fprintln(w, "  (not filled in yet)")
	}

	if len(inc.Tasks) > 0 {
		fmt.Fprintln(w, "tasks:")
		for _, t := range inc.Tasks {
			box := "[ ]"
			if t.Done {
				box = "[x]"
			}
			fmt.Fprintf(w, "  %s %-9s %s  (%s)\n", box, t.Stage, t.Title, t.ID)
		}
	}
	if len(tl) > 0 {
		fmt.Fprintln(w, "timeline:")
		for _, e := range tl {
			text := e.Summary
			if e.Text != "" && !strings.Contains(text, e.Text) {
				text += ": " + e.Text
			}
			if e.Failed {
				text += " (failed)"
			}
			fmt.Fprintf(w, "  %s  %-10s %-20s %s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, e.Actor, text)
		}
	}
}

// change applies ch to incident id as the CLI and says what it is now.
func change(cmd *cobra.Command, st store.Incidents, ws, id string, ch incident.Change) error {
	inc, err := st.ChangeIncident(cmd.Context(), ws, id, ch, cliActor)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "incident %s: stage %s, owner %s\n", inc.ID, inc.Stage, orDash(inc.Owner))
	return nil
}

func newIncidentsAssignCmd() *cobra.Command {
	return incidentCmd("assign ID OWNER", `Assign an incident to OWNER ("" unassigns it)`, cobra.ExactArgs(2),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			owner := strings.TrimSpace(args[1])
			return change(cmd, st, ws, args[0], incident.Change{Owner: &owner})
		})
}

func newIncidentsStageCmd() *cobra.Command {
	c := incidentCmd("stage ID STAGE", "Move an incident to STAGE (assess, diagnose, stabilize; assess reopens a closed one)", cobra.ExactArgs(2),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			s := incident.Stage(args[1])
			if s == incident.StageClose {
				return errors.New("closing needs a classification and a reason: use vigil incidents close ID --classification C --reason R")
			}
			if !s.Valid() {
				return fmt.Errorf("stage %q: want assess, diagnose or stabilize", args[1])
			}
			ch := incident.Change{Stage: &s}
			ch.Comment, _ = cmd.Flags().GetString("comment")
			ch.Comment = strings.TrimSpace(ch.Comment)
			return change(cmd, st, ws, args[0], ch)
		})
	c.Flags().String("comment", "", "a comment to add with the move")
	return c
}

func newIncidentsCommentCmd() *cobra.Command {
	return incidentCmd("comment ID TEXT", "Add a comment to an incident's timeline", cobra.ExactArgs(2),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			text := strings.TrimSpace(args[1])
			if text == "" {
				return errors.New("the comment is empty")
			}
			return change(cmd, st, ws, args[0], incident.Change{Comment: text})
		})
}

func newIncidentsTagCmd() *cobra.Command {
	c := incidentCmd("tag ID", "Add and remove an incident's tags", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			var ch incident.Change
			ch.AddTags, _ = cmd.Flags().GetStringSlice("add")
			ch.RemoveTags, _ = cmd.Flags().GetStringSlice("remove")
			if len(ch.AddTags)+len(ch.RemoveTags) == 0 {
				return errors.New("name tags to --add or --remove")
			}
			for _, t := range ch.AddTags {
				if slices.Contains(ch.RemoveTags, t) {
					return fmt.Errorf("tag %q is both added and removed", t)
				}
			}
			return change(cmd, st, ws, args[0], ch)
		})
	c.Flags().StringSlice("add", nil, "tags to add (repeat or comma-separate)")
	c.Flags().StringSlice("remove", nil, "tags to remove (repeat or comma-separate)")
	return c
}

func newIncidentsTaskCmd() *cobra.Command {
	c := incidentCmd("task ID", "Add a task to an incident's checklist, or tick tasks done (show lists their ids)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			f := cmd.Flags()
			var ch incident.Change
			if title, _ := f.GetString("add"); strings.TrimSpace(title) != "" {
				stage, _ := f.GetString("stage")
				if stage != "" && !incident.Stage(stage).Valid() {
					return fmt.Errorf("--stage %q: want detect, assess, diagnose, stabilize or close", stage)
				}
				ch.AddTask = &incident.Task{Title: strings.TrimSpace(title), Stage: incident.Stage(stage)}
			}
			done, _ := f.GetStringSlice("done")
			undone, _ := f.GetStringSlice("undone")
			for _, id := range done {
				if ch.TaskDone == nil {
					ch.TaskDone = map[string]bool{}
				}
				ch.TaskDone[id] = true
			}
			for _, id := range undone {
				if ch.TaskDone[id] {
					return fmt.Errorf("task %s is both done and undone", id)
				}
				if ch.TaskDone == nil {
					ch.TaskDone = map[string]bool{}
				}
				ch.TaskDone[id] = false
			}
			if ch.AddTask == nil && len(ch.TaskDone) == 0 {
				return errors.New("give --add TITLE, --done TASK or --undone TASK")
			}
			return change(cmd, st, ws, args[0], ch)
		})
	c.Flags().String("add", "", "add a task with this title")
	c.Flags().String("stage", "", "the stage whose checklist the added task joins (default: the incident's)")
	c.Flags().StringSlice("done", nil, "task ids to mark done (repeat or comma-separate)")
	c.Flags().StringSlice("undone", nil, "task ids to mark not done")
	return c
}

func newIncidentsCloseCmd() *cobra.Command {
	c := incidentCmd("close ID", "Close an incident with a classification and a reason", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			cl, _ := cmd.Flags().GetString("classification")
			reason, _ := cmd.Flags().GetString("reason")
			if !incident.Classification(cl).Valid() {
				return fmt.Errorf("--classification %q: want true_positive_impact, true_positive_no_impact, benign_positive or false_positive", cl)
			}
			if strings.TrimSpace(reason) == "" {
				return errors.New("--reason: closing needs a reason")
			}
			s := incident.StageClose
			return change(cmd, st, ws, args[0], incident.Change{Stage: &s, Classification: incident.Classification(cl), Reason: strings.TrimSpace(reason)})
		})
	c.Flags().String("classification", "", "true_positive_impact, true_positive_no_impact, benign_positive or false_positive (required)")
	c.Flags().String("reason", "", "why it is closed (required)")
	_ = c.MarkFlagRequired("classification")
	_ = c.MarkFlagRequired("reason")
	return c
}

func newIncidentsMergeCmd() *cobra.Command {
	return incidentCmd("merge INTO FROM...", "Merge incidents FROM into INTO: their alerts move over and they are closed", cobra.MinimumNArgs(2),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			into, from := args[0], args[1:]
			if slices.Contains(from, into) {
				return fmt.Errorf("incident %s is not merged into itself", into)
			}
			inc, err := st.MergeIncidents(cmd.Context(), ws, into, from, cliActor)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merged %s into incident %s (%s)\n", count(len(from), "incident", "incidents"), inc.ID, count(inc.AlertCount, "alert", "alerts"))
			return nil
		})
}

func newIncidentsSplitCmd() *cobra.Command {
	return incidentCmd("split ID ALERT...", "Move alerts of an incident into a new incident", cobra.MinimumNArgs(2),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			inc, err := st.SplitIncident(cmd.Context(), ws, args[0], args[1:], cliActor)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "incident %s made of %s split off %s\n", inc.ID, count(inc.AlertCount, "alert", "alerts"), args[0])
			return nil
		})
}

func newIncidentsCreateCmd() *cobra.Command {
	c := incidentCmd("create ALERT...", "Create an incident by hand from alerts (they leave the incidents they were in)", cobra.MinimumNArgs(1),
		func(cmd *cobra.Command, st store.Incidents, ws string, args []string) error {
			title, _ := cmd.Flags().GetString("title")
			inc, err := st.CreateIncident(cmd.Context(), ws, strings.TrimSpace(title), args, cliActor)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "incident %s created with %s\n", inc.ID, count(inc.AlertCount, "alert", "alerts"))
			return nil
		})
	c.Flags().String("title", "", "the incident's title (default: made from its alerts)")
	return c
}
