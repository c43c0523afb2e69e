package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/suppress"
)

// newSuppressionsCmd manages a workspace's suppressions in the data
// directory's store, as /api/v1/suppressions does (audited, actor cli).
func newSuppressionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "suppressions", Short: "List, add, import and delete suppressions (allow-lists) of a workspace"}

	list := &cobra.Command{
		Use:   "list",
		Short: "List a workspace's suppressions with their hits",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			asJSON, _ := cmd.Flags().GetBool("json")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Workspace(cmd.Context(), ws); err != nil {
				return err
			}
			list, err := db.Suppressions(cmd.Context(), ws)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, s := range list {
					if err := enc.Encode(s); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMATCHES\tREASON\tAUTHOR\tEXPIRES\tHITS\tLAST HIT")
			now := time.Now()
			for _, s := range list {
				exp, last := "-", "-"
				if s.Expires != nil {
					exp = s.Expires.Format(time.RFC3339)
					if !s.Active(now) {
						exp += " (expired)"
					}
				}
				if s.LastHit != nil {
					last = s.LastHit.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, matches(s), s.Reason, s.Author, exp, s.Hits, last)
			}
			return tw.Flush()
		},
	}
	list.Flags().String("workspace", "", "workspace (required)")
	list.Flags().Bool("json", false, "print the suppressions as NDJSON, one a line")
	_ = list.MarkFlagRequired("workspace")
	addStoreFlags(list)

	add := &cobra.Command{
		Use:   "add",
		Short: "Add a suppression: the signals it matches raise no alert",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			ws, _ := f.GetString("workspace")
			s := suppress.Suppression{Workspace: ws}
			s.Rule, _ = f.GetString("rule")
			s.Field, _ = f.GetString("field")
			s.Value, _ = f.GetString("value")
			s.CIDR, _ = f.GetString("cidr")
			s.Reason, _ = f.GetString("reason")
			s.Author, _ = f.GetString("author")
			if e, _ := f.GetString("entity"); e != "" {
				typ, v, ok := strings.Cut(e, ":")
				if !ok {
					return fmt.Errorf("--entity %q: want TYPE:VALUE, e.g. account:svc_backup", e)
				}
				s.Entity = &alert.Entity{Type: typ, Value: v}
			}
			if v, _ := f.GetString("expires"); v != "" {
				at, err := expiryTime(v, time.Now())
				if err != nil {
					return err
				}
				s.Expires = &at
			}
			if err := s.Validate(); err != nil {
				return err
			}
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Workspace(cmd.Context(), ws); err != nil {
				return err
			}
			s, err = db.CreateSuppression(cmd.Context(), s, "cli")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "suppression %s (workspace %s): %s\n", s.ID, ws, matches(s))
			return nil
		},
	}
	af := add.Flags()
	af.String("workspace", "", "workspace (required)")
	af.String("rule", "", "suppress the signals of this rule id only (default: of every rule)")
	af.String("entity", "", "suppress signals about this entity, TYPE:VALUE (ip, host, account, process, file, url, database, application, cloud_resource, hash)")
	af.String("field", "", "a common event field (ECS name, e.g. user.name) that must hold --value or lie within --cidr")
	af.String("value", "", "the value --field must hold")
	af.String("cidr", "", "a network: --field, or without it any address of the signal, lies within it")
	af.String("reason", "", "why these signals are not worth an alert (required)")
	af.String("author", "", "who asks for it (default cli)")
	af.String("expires", "", "when it stops applying: a duration from now (720h) or an RFC 3339 time; never when empty")
	_ = add.MarkFlagRequired("workspace")
	_ = add.MarkFlagRequired("reason")
	addStoreFlags(add)

	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add every suppression of a suppressions file (the vigil scan --suppress format)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			list, err := suppress.Load(args[0], time.Now().UTC())
			if err != nil {
				return err
			}
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Workspace(cmd.Context(), ws); err != nil {
				return err
			}
			for i, s := range list {
				s.ID, s.Workspace = "", ws // the store names it
				if s.Author == "" {
					s.Author = "cli (" + args[0] + ")"
				}
				if _, err := db.CreateSuppression(cmd.Context(), s, "cli"); err != nil {
					return fmt.Errorf("suppression %d of %s: %w (the %d before it were added)", i+1, args[0], err, i)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s added to workspace %s\n", count(len(list), "suppression", "suppressions"), ws)
			return nil
		},
	}
	imp.Flags().String("workspace", "", "workspace (required)")
	_ = imp.MarkFlagRequired("workspace")
	addStoreFlags(imp)

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a suppression",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, _ := cmd.Flags().GetString("workspace")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.DeleteSuppression(cmd.Context(), ws, args[0], "cli"); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "suppression %s deleted\n", args[0])
			return nil
		},
	}
	del.Flags().String("workspace", "", "workspace (required)")
	_ = del.MarkFlagRequired("workspace")
	addStoreFlags(del)

	cmd.AddCommand(list, add, imp, del)
	return cmd
}

// matches says what a suppression matches, in a few words.
func matches(s suppress.Suppression) string {
	var parts []string
	if s.Rule != "" {
		parts = append(parts, "rule="+s.Rule)
	}
	if s.Entity != nil {
		parts = append(parts, s.Entity.Type+"="+s.Entity.Value)
	}
	switch {
	case s.Field != "" && s.CIDR != "":
		parts = append(parts, s.Field+" in "+s.CIDR)
	case s.Field != "":
		parts = append(parts, s.Field+"="+s.Value)
	case s.CIDR != "":
		parts = append(parts, "ip in "+s.CIDR)
	}
	return strings.Join(parts, " ")
}
