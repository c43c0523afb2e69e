package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Sign-in tickets make sign-in links (/welcome?ticket=…, which `vigil
// demo` prints): a ticket signs one user in to one workspace once, before
// it expires. Only the ticket's hash is kept, in this process's memory: a
// restart voids every link, which is what a link printed by that run
// should do.

// maxTickets bounds the tickets waiting to be used; past it, expired ones
// are dropped, and a new one is refused while none is.
const maxTickets = 1024

type signInTicket struct {
	user, workspace string
	expires         time.Time
}

type ticketBook struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]signInTicket
}

// IssueSignInTicket makes a one-time sign-in ticket for user in
// workspace, valid for ttl. The user must exist, be enabled and hold a
// role there; the role is read again when the ticket is used.
func (a *API) IssueSignInTicket(user, workspace string, ttl time.Duration) (string, error) {
	us, ok := a.users()
	if !ok {
		return "", errors.New("sign-in ticket: this store keeps no users")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("sign-in ticket for %s: lifetime %v is not positive", user, ttl)
	}
	u, err := us.User(context.Background(), user)
	if err != nil {
		return "", fmt.Errorf("sign-in ticket for %s: %w", user, err)
	}
	if u.Disabled || u.RoleIn(workspace) == "" {
		return "", fmt.Errorf("sign-in ticket for %s: disabled, or no role in workspace %s", user, workspace)
	}
	secret := "vgt_" + randomToken()
	now := a.now()
	b := &a.tickets
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[[sha256.Size]byte]signInTicket{}
	}
	if len(b.m) >= maxTickets {
		for h, t := range b.m {
			if !now.Before(t.expires) {
				delete(b.m, h)
			}
		}
		if len(b.m) >= maxTickets {
			return "", fmt.Errorf("sign-in ticket for %s: %d tickets wait to be used already", user, maxTickets)
		}
	}
	b.m[sha256.Sum256([]byte(secret))] = signInTicket{user: user, workspace: workspace, expires: now.Add(ttl)}
	return secret, nil
}

// take removes the ticket and returns it, if it was there: used or not,
// it is gone.
func (b *ticketBook) take(secret string) (signInTicket, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := sha256.Sum256([]byte(secret))
	t, ok := b.m[h]
	delete(b.m, h)
	return t, ok
}

// loginByTicket signs in with a ticket (POST /api/v1/session with
// {"ticket"}): the ticket is spent whether or not the sign-in succeeds.
func (a *API) loginByTicket(w http.ResponseWriter, r *http.Request, us store.Users, secret string) {
	c := a.clientOf(r)
	now := a.now()
	fail := func(ws, target, why string) {
		since := a.loginAddrs.fail(c.key, now)
		a.metrics.refused.WithLabelValues(refusedSession).Inc()
		a.auditRepeat(r.Context(), store.AuditEntry{Workspace: ws, Actor: c.addr, Action: "auth.login_failed",
			Target: target, Detail: why + via(c)}, since)
		writeError(w, http.StatusUnauthorized, "the sign-in link was used already, has expired or is not known")
	}
	t, ok := a.tickets.take(secret)
	if !ok {
		fail("", "ticket", "sign-in link: unknown or used ticket")
		return
	}
	target := "user:" + t.user
	if !now.Before(t.expires) {
		fail(t.workspace, target, "sign-in link: expired ticket")
		return
	}
	u, err := us.User(r.Context(), t.user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(t.workspace, target, "sign-in link: the user is gone")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "sign-in failed: the store did not answer")
		a.log.ErrorContext(r.Context(), "api: sign-in by link: read user", "err", err)
		return
	case u.Disabled:
		fail(t.workspace, target, "sign-in link: disabled user")
		return
	}
	role := u.RoleIn(t.workspace)
	if role == "" {
		fail(t.workspace, target, "sign-in link: no role in workspace "+t.workspace)
		return
	}
	s, err := a.openSession(w, r, us, u.Name, t.workspace, role, " by link")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "sign-in failed: the session was not stored")
		a.log.ErrorContext(r.Context(), "api: sign-in by link", "err", err)
		return
	}
	writeSession(w, s)
}
