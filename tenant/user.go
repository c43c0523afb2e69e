package tenant

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/argon2"
)

// Roles of a user in a workspace. A role gives the user's sessions the
// API key scope of the same duties (RoleScope): API keys and people take
// the same roles.
const (
	RoleReader    = "reader"    // reads everything but the audit log and the keys
	RoleResponder = "responder" // works alerts, incidents, decisions and suppressions
	RoleAdmin     = "admin"     // everything in the workspace, users and keys included
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleReader || r == RoleResponder || r == RoleAdmin }

// RoleScope is the API key scope whose routes a role may use.
func RoleScope(role string) string {
	switch role {
	case RoleAdmin:
		return ScopeAdmin
	case RoleResponder:
		return ScopeResponder
	case RoleReader:
		return ScopeRead
	}
	return ""
}

// User is a person who signs in to the dashboard (or the API, through a
// session). Passwords are kept only as argon2id hashes (HashPassword).
type User struct {
	Name         string     `json:"name"`
	PasswordHash string     `json:"-"`
	Disabled     bool       `json:"disabled"`
	Created      time.Time  `json:"created"`
	LastLogin    *time.Time `json:"last_login,omitempty"`
	// Roles are the user's role in each workspace it may enter.
	Roles []Membership `json:"roles"`
}

// Membership is a user's role in one workspace.
type Membership struct {
	Workspace string `json:"workspace"`
	Role      string `json:"role"`
}

// RoleIn returns the user's role in workspace ("" when it has none).
func (u User) RoleIn(workspace string) string {
	for _, m := range u.Roles {
		if m.Workspace == workspace {
			return m.Role
		}
	}
	return ""
}

// ValidUserName reports whether name can name a user: 1 to 64 letters,
// digits and . _ @ - (an e-mail address will do).
func ValidUserName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a user name has 1 to 64 characters")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._@-", r) {
			return fmt.Errorf("user name %q: %q is not a letter, digit, '.', '_', '@' or '-'", name, r)
		}
	}
	return nil
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// argon2id parameters (RFC 9106's second recommended option, with less
// memory: 64 MiB, 3 passes, 1 lane), kept in each hash so that they can
// change without breaking stored ones.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id and a random salt, in the
// PHC string form: $argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", fmt.Errorf("a password has at least %d characters", MinPasswordLength)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil || mem == 0 || iters == 0 || threads == 0 || mem > 1<<21 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Session is a signed-in user's session in one workspace: the browser
// holds its secret in a cookie, the store only its hash.
type Session struct {
	ID        string    `json:"id"` // not the secret: names the session in lists and the audit log
	Hash      []byte    `json:"-"`
	User      string    `json:"user"`
	Workspace string    `json:"workspace"`
	Role      string    `json:"role"`
	CSRF      string    `json:"-"` // the token state-changing requests must echo
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Expires   time.Time `json:"expires"`
	Address   string    `json:"address,omitempty"`
}

// externalMark starts what a single sign-on user keeps in place of a
// password hash.
const externalMark = "!oidc "

// ExternalPassword is what a user made by single sign-on keeps instead of
// a password hash: the provider (issuer) and the user's subject there,
// so that only that identity signs in as the user. No password matches it
// (CheckPassword); setting a password makes the user local again.
func ExternalPassword(issuer, subject string) string {
	return externalMark + issuer + " " + subject
}

// External reports whether the user signs in by single sign-on only.
func (u User) External() bool { return strings.HasPrefix(u.PasswordHash, externalMark) }
