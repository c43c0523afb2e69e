package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Sign-in tickets make sign-in links (/welcome?ticket=…, which `vigil
// demo` prints): a ticket signs one user in to one workspace once, before
// it expires. Only the ticket's hash is kept, in the store's sign-in
// state (signinstate.go), so that the link works on any API process of
// the store.

// maxTickets bounds the tickets waiting to be used; a new one is refused
// while that many unexpired ones wait.
const maxTickets = 1024

// signInTicket is a ticket's state.
type signInTicket struct {
	User      string `json:"u"`
	Workspace string `json:"w"`
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
	ctx := context.Background()
	u, err := us.User(ctx, user)
	if err != nil {
		return "", fmt.Errorf("sign-in ticket for %s: %w", user, err)
	}
	if u.Disabled || u.RoleIn(workspace) == "" {
		return "", fmt.Errorf("sign-in ticket for %s: disabled, or no role in workspace %s", user, workspace)
	}
	secret := "vgt_" + randomToken()
	data, err := json.Marshal(signInTicket{User: user, Workspace: workspace})
	if err != nil {
		return "", fmt.Errorf("sign-in ticket for %s: %w", user, err)
	}
	now := a.now()
	err = a.signIns().PutSignInState(ctx, store.SignInState{Kind: store.SignInTicket, Hash: secretHash(secret), Data: data,
		Expires: now.Add(ttl)}, maxTickets, now)
	if err != nil {
		return "", fmt.Errorf("sign-in ticket for %s: %w", user, err)
	}
	return secret, nil
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
	st, err := a.signIns().TakeSignInState(r.Context(), store.SignInTicket, secretHash(secret))
	if errors.Is(err, store.ErrNotFound) {
		fail("", "ticket", "sign-in link: unknown or used ticket")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "sign-in failed: the store did not answer")
		a.log.ErrorContext(r.Context(), "api: sign-in by link: take ticket", "err", err)
		return
	}
	var t signInTicket
	if err := json.Unmarshal(st.Data, &t); err != nil {
		fail("", "ticket", "sign-in link: unreadable ticket")
		return
	}
	target := "user:" + t.User
	if !now.Before(st.Expires) {
		fail(t.Workspace, target, "sign-in link: expired ticket")
		return
	}
	u, err := us.User(r.Context(), t.User)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(t.Workspace, target, "sign-in link: the user is gone")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "sign-in failed: the store did not answer")
		a.log.ErrorContext(r.Context(), "api: sign-in by link: read user", "err", err)
		return
	case u.Disabled:
		fail(t.Workspace, target, "sign-in link: disabled user")
		return
	}
	role := u.RoleIn(t.Workspace)
	if role == "" {
		fail(t.Workspace, target, "sign-in link: no role in workspace "+t.Workspace)
		return
	}
	s, err := a.openSession(w, r, us, u.Name, t.Workspace, role, " by link")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "sign-in failed: the session was not stored")
		a.log.ErrorContext(r.Context(), "api: sign-in by link", "err", err)
		return
	}
	writeSession(w, s)
}
