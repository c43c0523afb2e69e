package store

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/tenant"
)

// CheckWorkspaceName accepts 1–64 of lowercase letters, digits, '-' and
// '_': names appear in URLs, subjects and file names unescaped. Errors are
// ErrInvalid.
func CheckWorkspaceName(name string) error {
	if len(name) == 0 || len(name) > 64 {
		return fmt.Errorf("workspace name %q: %w (1 to 64 characters)", name, ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("workspace name %q: character %q at %d: %w (lowercase letters, digits, '-' and '_' only)", name, c, i, ErrInvalid)
		}
	}
	return nil
}

// CheckTier refuses a tier tenant does not know (ErrInvalid).
func CheckTier(workspace, tier string) error {
	if !tenant.ValidTier(tier) {
		return fmt.Errorf("workspace %s: tier %q: %w (want free or standard)", workspace, tier, ErrInvalid)
	}
	return nil
}

// CheckKey refuses a key to create without id, with an unknown scope or
// without a secret hash (ErrInvalid).
func CheckKey(k tenant.APIKey) error {
	switch {
	case k.ID == "":
		return fmt.Errorf("create key: no id: %w", ErrInvalid)
	case !tenant.ValidScope(k.Scope):
		return fmt.Errorf("create key %s: scope %q: %w (want ingest, read, responder, admin or metrics)", k.ID, k.Scope, ErrInvalid)
	case len(k.Hash) == 0:
		return fmt.Errorf("create key %s: no hash: %w", k.ID, ErrInvalid)
	}
	return nil
}

// CheckKeyAllow refuses a key's allowed address that is empty or holds a
// comma, which the stores use to join the list (ErrInvalid).
func CheckKeyAllow(k tenant.APIKey) error {
	for _, a := range k.Allow {
		if a == "" || strings.Contains(a, ",") {
			return fmt.Errorf("create key %s: allowed address %q: %w", k.ID, a, ErrInvalid)
		}
	}
	return nil
}
