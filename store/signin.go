package store

import "time"

// SignInState is short-lived state of a browser sign-in that any API
// process of a store may need: a single sign-on flow between the redirect
// to the provider and its callback, or a one-time sign-in ticket. Only the
// hash of its secret is kept.
type SignInState struct {
	Kind    string // SignInOIDC or SignInTicket
	Hash    []byte // SHA-256 of the secret the browser holds
	Data    []byte // the state itself, as its user encodes it
	Expires time.Time
}

// Kinds of sign-in state.
const (
	SignInOIDC   = "oidc"
	SignInTicket = "ticket"
)
