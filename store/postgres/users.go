package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

var _ store.Users = (*DB)(nil)

// CreateUser; see store.Users.
func (db *DB) CreateUser(ctx context.Context, u tenant.User) error {
	if err := tenant.ValidUserName(u.Name); err != nil {
		return fmt.Errorf("create user: %v: %w", err, store.ErrInvalid)
	}
	if u.PasswordHash == "" {
		return fmt.Errorf("create user %s: no password: %w", u.Name, store.ErrInvalid)
	}
	if u.Created.IsZero() {
		u.Created = db.now()
	}
	return db.tx(ctx, "create user "+u.Name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO users (name, password, disabled, created) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			u.Name, u.PasswordHash, u.Disabled, nanos(u.Created))
		if err != nil {
			return fmt.Errorf("create user %s: %w", u.Name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("create user %s: %w", u.Name, store.ErrConflict)
		}
		for _, m := range u.Roles {
			if err := setRole(ctx, tx, u.Name, m.Workspace, m.Role); err != nil {
				return err
			}
		}
		return nil
	})
}

func setRole(ctx context.Context, tx pgx.Tx, name, ws, role string) error {
	if role == "" {
		if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE name = $1 AND workspace = $2`, name, ws); err != nil {
			return fmt.Errorf("user %s: take workspace %s away: %w", name, ws, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE name = $1 AND workspace = $2`, name, ws); err != nil {
			return fmt.Errorf("user %s: end sessions in %s: %w", name, ws, err)
		}
		return nil
	}
	if !tenant.ValidRole(role) {
		return fmt.Errorf("user %s: role %q: %w (want reader, responder or admin)", name, role, store.ErrInvalid)
	}
	// FOR SHARE: a workspace deleted meanwhile waits for this role, or
	// this role for it.
	if _, err := scanWorkspace(tx.QueryRow(ctx, `SELECT name, tier, created FROM workspaces WHERE name = $1 FOR SHARE`, ws)); err != nil {
		return fmt.Errorf("user %s: role in %s: %w", name, ws, workspaceErr(ws, err))
	}
	// A changed role ends the user's sessions there: they were granted
	// for the old one.
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE name = $1 AND workspace = $2
		AND EXISTS (SELECT 1 FROM user_roles WHERE name = $1 AND workspace = $2 AND role <> $3)`, name, ws, role); err != nil {
		return fmt.Errorf("user %s: end sessions in %s: %w", name, ws, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO user_roles (name, workspace, role) VALUES ($1, $2, $3)
		ON CONFLICT (name, workspace) DO UPDATE SET role = excluded.role`, name, ws, role); err != nil {
		return fmt.Errorf("user %s: role in %s: %w", name, ws, err)
	}
	return nil
}

// User; see store.Users.
func (db *DB) User(ctx context.Context, name string) (tenant.User, error) {
	us, err := db.users(ctx, name)
	if err != nil {
		return tenant.User{}, err
	}
	if len(us) == 0 {
		return tenant.User{}, fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	return us[0], nil
}

// Users; see store.Users.
func (db *DB) Users(ctx context.Context) ([]tenant.User, error) {
	return db.users(ctx, "")
}

// users reads the user named (every user for ""), roles and all, in one
// query.
func (db *DB) users(ctx context.Context, name string) ([]tenant.User, error) {
	what := "users"
	if name != "" {
		what = "user " + name
	}
	return collect(ctx, db.pool, what, func(r scanner) (tenant.User, error) {
		var u tenant.User
		var created int64
		var last *int64
		var wss, roles []string
		if err := r.Scan(&u.Name, &u.PasswordHash, &u.Disabled, &created, &last, &wss, &roles); err != nil {
			return u, err
		}
		u.Created, u.LastLogin = fromNanos(created), fromNullNanos(last)
		u.Roles = make([]tenant.Membership, len(wss))
		for i := range wss {
			u.Roles[i] = tenant.Membership{Workspace: wss[i], Role: roles[i]}
		}
		return u, nil
	}, `SELECT u.name, u.password, u.disabled, u.created, u.last_login,
			coalesce(array_agg(r.workspace ORDER BY r.workspace) FILTER (WHERE r.workspace IS NOT NULL), '{}'),
			coalesce(array_agg(r.role ORDER BY r.workspace) FILTER (WHERE r.workspace IS NOT NULL), '{}')
		FROM users u LEFT JOIN user_roles r ON r.name = u.name
		WHERE $1 = '' OR u.name = $1
		GROUP BY u.name ORDER BY u.name`, name)
}

// updateUser runs one statement on an existing user and ends its sessions
// when endSessions.
func (db *DB) updateUser(ctx context.Context, what, name string, endSessions bool, query string, args ...any) error {
	return db.tx(ctx, what+" of user "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s of user %s: %w", what, name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
		}
		if endSessions {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE name = $1`, name); err != nil {
				return fmt.Errorf("%s of user %s: end sessions: %w", what, name, err)
			}
		}
		return nil
	})
}

// SetPassword; see store.Users.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if hash == "" {
		return fmt.Errorf("set password of user %s: empty hash: %w", name, store.ErrInvalid)
	}
	return db.updateUser(ctx, "set password", name, true, `UPDATE users SET password = $1 WHERE name = $2`, hash, name)
}

// SetUserDisabled; see store.Users.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return db.updateUser(ctx, "disable", name, disabled, `UPDATE users SET disabled = $1 WHERE name = $2`, disabled, name)
}

// RecordLogin; see store.Users.
func (db *DB) RecordLogin(ctx context.Context, name string, at time.Time) error {
	return db.updateUser(ctx, "record login", name, false, `UPDATE users SET last_login = $1 WHERE name = $2`, nanos(at), name)
}

// SetRole; see store.Users. The user's row is locked, so that two role
// changes of one user run one after the other.
func (db *DB) SetRole(ctx context.Context, name, ws, role string) error {
	return db.tx(ctx, "set role of user "+name, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE name = $1 FOR UPDATE`, name).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
			}
			return fmt.Errorf("user %s: %w", name, err)
		}
		return setRole(ctx, tx, name, ws, role)
	})
}

// CreateSession; see store.Users.
func (db *DB) CreateSession(ctx context.Context, s tenant.Session) error {
	if s.ID == "" || len(s.Hash) == 0 || s.CSRF == "" {
		return fmt.Errorf("create session: id, hash and csrf token must be set: %w", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id, hash, name, workspace, csrf, created, last_seen, expires, address)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.ID, s.Hash, s.User, s.Workspace, s.CSRF,
		nanos(s.Created), nanos(s.LastSeen), nanos(s.Expires), text(s.Address))
	if err != nil {
		return fmt.Errorf("create session of %s: %w", s.User, err)
	}
	return nil
}

// SessionByHash; see store.Users.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (tenant.Session, error) {
	var s tenant.Session
	var created, seen, expires int64
	err := db.pool.QueryRow(ctx, `SELECT s.id, s.hash, s.name, s.workspace, r.role, s.csrf, s.created, s.last_seen, s.expires, s.address
		FROM sessions s
		JOIN users u ON u.name = s.name AND NOT u.disabled
		JOIN user_roles r ON r.name = s.name AND r.workspace = s.workspace
		WHERE s.hash = $1 AND s.expires > $2`, hash, nanos(now)).
		Scan(&s.ID, &s.Hash, &s.User, &s.Workspace, &s.Role, &s.CSRF, &created, &seen, &expires, &s.Address)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	s.Created, s.LastSeen, s.Expires = fromNanos(created), fromNanos(seen), fromNanos(expires)
	return s, nil
}

// TouchSession; see store.Users.
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen = $1, expires = $2 WHERE id = $3`, nanos(lastSeen), nanos(expires), id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession; see store.Users.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// DeleteUserSessions; see store.Users.
func (db *DB) DeleteUserSessions(ctx context.Context, name string) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE name = $1`, name)
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", name, err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeSessions; see store.Users.
func (db *DB) PurgeSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
