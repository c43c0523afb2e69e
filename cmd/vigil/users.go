package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// newUsersCmd manages the people who sign in to the dashboard, in the data
// directory's store; every change is audited with actor cli in each
// workspace it concerns.
func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Create, list and disable users, set their passwords and roles"}

	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user with roles in workspaces; the password is read from standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roles, _ := cmd.Flags().GetStringSlice("role")
			ms, err := parseRoles(roles)
			if err != nil {
				return err
			}
			if len(ms) == 0 {
				return errors.New("--role WORKSPACE=ROLE: a user needs a role in at least one workspace")
			}
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			hash, err := tenant.HashPassword(pw)
			if err != nil {
				return err
			}
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			u := tenant.User{Name: args[0], PasswordHash: hash, Roles: ms, Created: time.Now().UTC()}
			if err := db.CreateUser(cmd.Context(), u); err != nil {
				return err
			}
			for _, m := range ms {
				auditUser(cmd, db, m.Workspace, "user.create", u.Name, "role "+m.Role)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s created\n", u.Name)
			return nil
		},
	}
	create.Flags().StringSlice("role", nil, "WORKSPACE=ROLE (reader, responder or admin); repeatable, comma-separated")
	addStoreFlags(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List users with their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			us, err := db.Users(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, u := range us {
					if err := enc.Encode(struct {
						tenant.User
						SignIn string `json:"sign_in"`
					}{u, signInOf(u)}); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLES\tDISABLED\tLAST LOGIN\tSIGN-IN")
			for _, u := range us {
				var rs []string
				for _, m := range u.Roles {
					rs = append(rs, m.Workspace+"="+m.Role)
				}
				last := "-"
				if u.LastLogin != nil {
					last = u.LastLogin.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", u.Name, strings.Join(rs, ","), u.Disabled, last, signInOf(u))
			}
			return tw.Flush()
		},
	}
	list.Flags().Bool("json", false, "print the users as NDJSON, one a line")
	addStoreFlags(list)

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password (read from standard input); ends the user's sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			hash, err := tenant.HashPassword(pw)
			if err != nil {
				return err
			}
			return changeUser(cmd, args[0], "user.password", "", func(db backend) error {
				return db.SetPassword(cmd.Context(), args[0], hash)
			})
		},
	}
	addStoreFlags(passwd)

	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable a user (ends its sessions); --enable lets it sign in again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			enable, _ := cmd.Flags().GetBool("enable")
			action := "user.disable"
			if enable {
				action = "user.enable"
			}
			return changeUser(cmd, args[0], action, "", func(db backend) error {
				return db.SetUserDisabled(cmd.Context(), args[0], !enable)
			})
		},
	}
	disable.Flags().Bool("enable", false, "enable the user again instead")
	addStoreFlags(disable)

	role := &cobra.Command{
		Use:   "role NAME WORKSPACE ROLE",
		Short: "Give a user a role (reader, responder, admin) in a workspace; role none takes the workspace away",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := args[2]
			if r == "none" {
				r = ""
			} else if !tenant.ValidRole(r) {
				return fmt.Errorf("role %q: want reader, responder, admin or none", r)
			}
			db, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.SetRole(cmd.Context(), args[0], args[1], r); err != nil {
				return err
			}
			auditUser(cmd, db, args[1], "user.role", args[0], "role "+args[2])
			fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s in %s\n", args[0], args[2], args[1])
			return nil
		},
	}
	addStoreFlags(role)

	cmd.AddCommand(create, list, passwd, disable, role)
	return cmd
}

// changeUser applies a change to an existing user and audits it in each of
// the user's workspaces.
func changeUser(cmd *cobra.Command, name, action, detail string, change func(backend) error) error {
	db, err := openStore(cmd, false)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.User(cmd.Context(), name)
	if err != nil {
		return err
	}
	if err := change(db); err != nil {
		return err
	}
	for _, m := range u.Roles {
		auditUser(cmd, db, m.Workspace, action, name, detail)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s\n", name, strings.TrimPrefix(action, "user."))
	return nil
}

func auditUser(cmd *cobra.Command, db store.Store, ws, action, name, detail string) {
	if err := db.Audit(cmd.Context(), store.AuditEntry{Workspace: ws, Time: time.Now().UTC(), Actor: "cli",
		Action: action, Target: "user:" + name, Detail: detail, Count: 1}); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: audit %s of %s: %v\n", action, name, err)
	}
}

// parseRoles reads WORKSPACE=ROLE pairs.
func parseRoles(pairs []string) ([]tenant.Membership, error) {
	var out []tenant.Membership
	for _, p := range pairs {
		ws, role, ok := strings.Cut(p, "=")
		if !ok || ws == "" || !tenant.ValidRole(role) {
			return nil, fmt.Errorf("--role %q: want WORKSPACE=ROLE with ROLE reader, responder or admin", p)
		}
		out = append(out, tenant.Membership{Workspace: ws, Role: role})
	}
	return out, nil
}

// readPassword reads the password, the first line of r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input (give it as the first line)")
	}
	return pw, nil
}

// signInOf says how a user signs in: with a password, or by single
// sign-on only (its roles then follow the provider's groups; a password
// set with passwd makes it a local user again).
func signInOf(u tenant.User) string {
	if u.External() {
		return "sso"
	}
	return "password"
}
