package store

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/tenant"
)

// Users keeps the people who sign in and their sessions; both stores
// implement it. Changes are audited by the caller (they name the actor).
type Users interface {
	// CreateUser stores a new user (ErrConflict when the name is taken),
	// with its roles; every workspace it names must exist.
	CreateUser(ctx context.Context, u tenant.User) error
	User(ctx context.Context, name string) (tenant.User, error)
	Users(ctx context.Context) ([]tenant.User, error)
	// SetPassword replaces a user's password hash and ends its sessions.
	SetPassword(ctx context.Context, name, hash string) error
	// SetUserDisabled disables (ending its sessions) or enables a user.
	SetUserDisabled(ctx context.Context, name string, disabled bool) error
	// SetRole gives the user a role in a workspace; role "" takes the
	// workspace away. Both a changed role and none end the user's
	// sessions there.
	SetRole(ctx context.Context, name, workspace, role string) error
	// RecordLogin notes a successful sign-in.
	RecordLogin(ctx context.Context, name string, at time.Time) error

	CreateSession(ctx context.Context, s tenant.Session) error
	// SessionByHash returns the live session whose secret has this hash:
	// ErrNotFound when there is none, it expired, or its user is disabled
	// or lost its role in the session's workspace.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (tenant.Session, error)
	// TouchSession moves a session's last use and expiry.
	TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of a user ("log out
	// everywhere"); it returns how many ended.
	DeleteUserSessions(ctx context.Context, name string) (int, error)
	// PurgeSessions deletes the sessions expired before now.
	PurgeSessions(ctx context.Context, now time.Time) (int64, error)
}
