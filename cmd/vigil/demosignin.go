package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// The demo opens on the dashboard: it makes the user "demo", an admin of
// the demo workspace, with a new password each run, and prints a one-time
// sign-in link for it.
const (
	demoUserName = "demo"
	// demoLinkTTL is how long the printed sign-in link works ("within an
	// hour", the demo says).
	demoLinkTTL = time.Hour
)

// demoSignIn makes (or, on a data directory of an earlier run, resets)
// the demo user and returns its new password and a sign-in link.
func demoSignIn(ctx context.Context, s *server) (link, password string, err error) {
	password = "demo-" + rand.Text()
	hash, err := tenant.HashPassword(password)
	if err != nil {
		return "", "", err
	}
	now := time.Now().UTC()
	audit := func(action, detail string) {
		_ = s.store.Audit(ctx, store.AuditEntry{Workspace: demoWorkspace, Time: now, Actor: "demo", Action: action,
			Target: "user:" + demoUserName, Detail: detail, Count: 1})
	}
	_, err = s.store.User(ctx, demoUserName)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u := tenant.User{Name: demoUserName, PasswordHash: hash, Created: now,
			Roles: []tenant.Membership{{Workspace: demoWorkspace, Role: tenant.RoleAdmin}}}
		if err := s.store.CreateUser(ctx, u); err != nil {
			return "", "", fmt.Errorf("demo user: %w", err)
		}
		audit("user.create", "role admin, for the demo's sign-in link")
	case err != nil:
		return "", "", fmt.Errorf("demo user: %w", err)
	default:
		// The password of the previous run was printed by it and is
		// gone with its output: a new one, and the user as the demo
		// needs it.
		if err := s.store.SetPassword(ctx, demoUserName, hash); err != nil {
			return "", "", fmt.Errorf("demo user: %w", err)
		}
		if err := s.store.SetUserDisabled(ctx, demoUserName, false); err != nil {
			return "", "", fmt.Errorf("demo user: %w", err)
		}
		if err := s.store.SetRole(ctx, demoUserName, demoWorkspace, tenant.RoleAdmin); err != nil {
			return "", "", fmt.Errorf("demo user: %w", err)
		}
		audit("user.password", "new password of a new demo run")
	}
	ticket, err := s.api.IssueSignInTicket(demoUserName, demoWorkspace, demoLinkTTL)
	if err != nil {
		return "", "", err
	}
	return s.URL() + "/welcome?ticket=" + ticket, password, nil
}
