package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

var _ store.Users = (*DB)(nil)

// sqlMigrate16 holds users, their roles per workspace and their sessions
// (store.Users). A session row keeps the hash of its secret, never the
// secret.
const sqlMigrate16 = `
CREATE TABLE users (
	name       TEXT PRIMARY KEY,
	password   TEXT NOT NULL,
	disabled   INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	last_login INTEGER
) WITHOUT ROWID;

CREATE TABLE user_roles (
	name      TEXT NOT NULL,
	workspace TEXT NOT NULL,
	role      TEXT NOT NULL,
	PRIMARY KEY (name, workspace)
) WITHOUT ROWID;

CREATE TABLE sessions (
	id        TEXT PRIMARY KEY,
	hash      BLOB NOT NULL UNIQUE,
	name      TEXT NOT NULL,
	workspace TEXT NOT NULL,
	csrf      TEXT NOT NULL,
	created   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	address   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_name ON sessions (name);
CREATE INDEX sessions_expires ON sessions (expires);
`

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
	return db.write(ctx, "create user "+u.Name, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO users (name, password, disabled, created) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			u.Name, u.PasswordHash, u.Disabled, nanos(u.Created))
		if err != nil {
			return fmt.Errorf("create user %s: %w", u.Name, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
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

func setRole(ctx context.Context, tx *sql.Tx, name, ws, role string) error {
	if role == "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE name = ? AND workspace = ?`, name, ws); err != nil {
			return fmt.Errorf("user %s: take workspace %s away: %w", name, ws, err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name = ? AND workspace = ?`, name, ws)
		return err
	}
	if !tenant.ValidRole(role) {
		return fmt.Errorf("user %s: role %q: %w (want reader, responder or admin)", name, role, store.ErrInvalid)
	}
	if _, err := workspace(ctx, tx, ws); err != nil {
		return fmt.Errorf("user %s: role in %s: %w", name, ws, err)
	}
	// A changed role ends the user's sessions there: they were granted
	// for the old one.
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name = ? AND workspace = ?
		AND EXISTS (SELECT 1 FROM user_roles WHERE name = ? AND workspace = ? AND role <> ?)`, name, ws, name, ws, role); err != nil {
		return fmt.Errorf("user %s: end sessions in %s: %w", name, ws, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO user_roles (name, workspace, role) VALUES (?, ?, ?)
		ON CONFLICT (name, workspace) DO UPDATE SET role = excluded.role`, name, ws, role)
	if err != nil {
		return fmt.Errorf("user %s: role in %s: %w", name, ws, err)
	}
	return nil
}

// User; see store.Users.
func (db *DB) User(ctx context.Context, name string) (tenant.User, error) {
	var u tenant.User
	var created int64
	var last sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT name, password, disabled, created, last_login FROM users WHERE name = ?`, name).
		Scan(&u.Name, &u.PasswordHash, &u.Disabled, &created, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %s: %w", name, err)
	}
	u.Created, u.LastLogin = fromNanos(created), fromNullNanos(last)
	u.Roles, err = list(ctx, db, "roles of "+name, func(r scanner) (tenant.Membership, error) {
		var m tenant.Membership
		return m, r.Scan(&m.Workspace, &m.Role)
	}, `SELECT workspace, role FROM user_roles WHERE name = ? ORDER BY workspace`, name)
	if u.Roles == nil {
		u.Roles = []tenant.Membership{}
	}
	return u, err
}

// Users; see store.Users.
func (db *DB) Users(ctx context.Context) ([]tenant.User, error) {
	names, err := list(ctx, db, "users", func(r scanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	}, `SELECT name FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := make([]tenant.User, 0, len(names))
	for _, n := range names {
		u, err := db.User(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// updateUser runs one statement on an existing user and ends its sessions
// when endSessions.
func (db *DB) updateUser(ctx context.Context, what, name string, endSessions bool, query string, args ...any) error {
	return db.write(ctx, what+" of user "+name, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s of user %s: %w", what, name, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("user %s: %w", name, store.ErrNotFound)
		}
		if endSessions {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name = ?`, name); err != nil {
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
	return db.updateUser(ctx, "set password", name, true, `UPDATE users SET password = ? WHERE name = ?`, hash, name)
}

// SetUserDisabled; see store.Users.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return db.updateUser(ctx, "disable", name, disabled, `UPDATE users SET disabled = ? WHERE name = ?`, disabled, name)
}

// RecordLogin; see store.Users.
func (db *DB) RecordLogin(ctx context.Context, name string, at time.Time) error {
	return db.updateUser(ctx, "record login", name, false, `UPDATE users SET last_login = ? WHERE name = ?`, nanos(at), name)
}

// SetRole; see store.Users.
func (db *DB) SetRole(ctx context.Context, name, ws, role string) error {
	return db.write(ctx, "set role of user "+name, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, name).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
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
	return db.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, hash, name, workspace, csrf, created, last_seen, expires, address)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Hash, s.User, s.Workspace, s.CSRF,
			nanos(s.Created), nanos(s.LastSeen), nanos(s.Expires), s.Address)
		if err != nil {
			return fmt.Errorf("create session of %s: %w", s.User, err)
		}
		return nil
	})
}

// SessionByHash; see store.Users.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (tenant.Session, error) {
	var s tenant.Session
	var created, seen, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT s.id, s.hash, s.name, s.workspace, r.role, s.csrf, s.created, s.last_seen, s.expires, s.address
		FROM sessions s
		JOIN users u ON u.name = s.name AND u.disabled = 0
		JOIN user_roles r ON r.name = s.name AND r.workspace = s.workspace
		WHERE s.hash = ? AND s.expires > ?`, hash, nanos(now)).
		Scan(&s.ID, &s.Hash, &s.User, &s.Workspace, &s.Role, &s.CSRF, &created, &seen, &expires, &s.Address)
	if errors.Is(err, sql.ErrNoRows) {
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
	return db.write(ctx, "touch session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, expires = ? WHERE id = ?`, nanos(lastSeen), nanos(expires), id)
		return err
	})
}

// DeleteSession; see store.Users.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return db.write(ctx, "end session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
}

// DeleteUserSessions; see store.Users.
func (db *DB) DeleteUserSessions(ctx context.Context, name string) (int, error) {
	var n int64
	err := db.write(ctx, "end sessions of "+name, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name = ?`, name)
		if err == nil {
			n, err = r.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// PurgeSessions; see store.Users.
func (db *DB) PurgeSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "purge sessions", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, nanos(now))
		if err == nil {
			n, err = r.RowsAffected()
		}
		return err
	})
	return n, err
}
