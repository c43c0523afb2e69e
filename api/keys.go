package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// A secret is secretPrefix and 32 random bytes in lowercase base32 without
// padding: 56 characters that survive shells, URLs and config files.
const (
	secretPrefix = "vgl_"
	secretBytes  = 32
	secretLen    = len(secretPrefix) + (secretBytes*8+4)/5
	keyPrefixLen = 12 // characters of the secret kept to recognize a key
	maxKeyName   = 128
)

var secretEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey makes an API key for workspace with scope (ingest, read or
// admin). It returns the secret, to be shown once, and the key to store,
// which holds only the secret's hash. Invalid input wraps store.ErrInvalid.
func NewKey(workspace, scope, name string, now time.Time) (secret string, key tenant.APIKey, err error) {
	if workspace == "" {
		return "", tenant.APIKey{}, fmt.Errorf("new key: workspace is empty: %w", store.ErrInvalid)
	}
	if !tenant.ValidScope(scope) {
		return "", tenant.APIKey{}, fmt.Errorf("new key: scope %q is not ingest, read, responder, admin, metrics or bouncer: %w", scope, store.ErrInvalid)
	}
	if err := validKeyName(name); err != nil {
		return "", tenant.APIKey{}, fmt.Errorf("new key: %w", err)
	}
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", tenant.APIKey{}, fmt.Errorf("new key: random bytes: %w", err)
	}
	secret = secretPrefix + secretEncoding.EncodeToString(b[:])
	return secret, tenant.APIKey{
		ID:        event.NewID().String(),
		Workspace: workspace,
		Name:      name,
		Scope:     scope,
		Prefix:    secret[:keyPrefixLen],
		Hash:      HashKey(secret),
		Created:   now.UTC(),
	}, nil
}

// HashKey returns the hash under which a secret is stored and looked up.
// The secret has 256 random bits, so a plain SHA-256 is enough: there is
// nothing to guess that a slow hash would protect.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func validKeyName(name string) error {
	if len(name) > maxKeyName {
		return fmt.Errorf("key name is %d bytes, at most %d: %w", len(name), maxKeyName, store.ErrInvalid)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("key name holds a control character or invalid UTF-8: %w", store.ErrInvalid)
		}
	}
	return nil
}

// wellFormedSecret reports whether s has the shape NewKey gives, so that
// garbage is refused before the store is asked.
func wellFormedSecret(s string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, secretPrefix) {
		return false
	}
	for i := len(secretPrefix); i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

type keysOutput struct {
	Body struct {
		Keys []tenant.APIKey `json:"keys"`
	}
}

type createKeyInput struct {
	Body struct {
		Scope string `json:"scope" enum:"ingest,read,responder,admin,bouncer" doc:"What the key may do: ingest (POST /api/v1/ingest only), read (GET routes), responder (read, and work alerts, incidents, decisions and suppressions), admin (everything in the workspace), bouncer (GET /api/v1/decisions and its stream only)."`
		Name  string `json:"name,omitempty" maxLength:"128" doc:"A label to recognize the key by."`
		KeyLimits
	}
}

// KeyLimits bound where and until when a key works.
type KeyLimits struct {
	Expires *time.Time `json:"expires,omitempty" required:"false" doc:"When the key stops working (RFC 3339); never when absent."`
	Allow   []string   `json:"allow,omitempty" required:"false" maxItems:"64" doc:"Addresses (CIDRs or single addresses) the key may be used from; anywhere when absent. From elsewhere it is refused (403) and audited."`
}

// Apply checks l and sets it on k; invalid limits wrap store.ErrInvalid.
func (l KeyLimits) Apply(k *tenant.APIKey, now time.Time) error {
	if l.Expires != nil {
		if !l.Expires.After(now) {
			return fmt.Errorf("expires %s is not in the future: %w", l.Expires.Format(time.RFC3339), store.ErrInvalid)
		}
		e := l.Expires.UTC()
		k.Expires = &e
	}
	ps, err := ParseCIDRs(l.Allow)
	if err != nil {
		return fmt.Errorf("allow: %v: %w", err, store.ErrInvalid)
	}
	k.Allow = nil
	for _, p := range ps {
		k.Allow = append(k.Allow, p.String())
	}
	return nil
}

type rotateKeyInput struct {
	ID string `path:"id" doc:"The key to rotate."`
	// A pointer: the body is optional.
	Body *struct {
		Overlap string `json:"overlap,omitempty" required:"false" doc:"How long the old key keeps working beside its successor, a Go duration (e.g. 24h, 30m, 0s); default 24h."`
	}
}

// DefaultRotateOverlap is how long a rotated key keeps working beside its
// successor unless told otherwise.
const DefaultRotateOverlap = 24 * time.Hour

// Successor makes the key that replaces old: same workspace, scope, name
// and allow-list, a new secret.
func Successor(old tenant.APIKey, now time.Time) (string, tenant.APIKey, error) {
	secret, k, err := NewKey(old.Workspace, old.Scope, old.Name, now)
	if err != nil {
		return "", tenant.APIKey{}, err
	}
	k.Allow = old.Allow
	return secret, k, nil
}

type createKeyOutput struct {
	Body struct {
		Key    tenant.APIKey `json:"key"`
		Secret string        `json:"secret" doc:"The key's secret, shown this once: only its hash is stored."`
	}
}

type keyIDInput struct {
	ID string `path:"id" doc:"The key's id."`
}

func (a *API) registerKeys(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-keys",
		Method:      http.MethodGet,
		Path:        "/api/v1/keys",
		Summary:     "List the workspace's API keys",
		Description: "Keys are listed with their prefix, never their secret.",
		Tags:        []string{"keys"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden},
	}, a.listKeys)
	huma.Register(h, huma.Operation{
		OperationID:   "create-key",
		Method:        http.MethodPost,
		Path:          "/api/v1/keys",
		Summary:       "Create an API key",
		Description:   "Returns the secret once; only its hash is stored. Audited as key.create.",
		Tags:          []string{"keys"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.createKey)
	huma.Register(h, huma.Operation{
		OperationID:   "rotate-key",
		Method:        http.MethodPost,
		Path:          "/api/v1/keys/{id}/rotate",
		Summary:       "Rotate an API key",
		Description:   "Makes a successor with the same scope, name and allow-list and returns its secret once; the old key keeps working for the overlap (default 24h), then expires. Audited as key.rotate.",
		Tags:          []string{"keys"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, a.rotateKey)
	huma.Register(h, huma.Operation{
		OperationID:   "revoke-key",
		Method:        http.MethodDelete,
		Path:          "/api/v1/keys/{id}",
		Summary:       "Revoke an API key",
		Description:   "The key stops working at once. Audited as key.revoke. The workspace's last admin key is refused (409): create another admin key first.",
		Tags:          []string{"keys"},
		Security:      bearer,
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict},
	}, a.revokeKey)
}

func (a *API) listKeys(ctx context.Context, _ *struct{}) (*keysOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := a.store.Keys(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "keys", err)
	}
	out := &keysOutput{}
	out.Body.Keys = nonNil(keys)
	return out, nil
}

func (a *API) createKey(ctx context.Context, in *createKeyInput) (*createKeyOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	secret, key, err := NewKey(k.Workspace, in.Body.Scope, in.Body.Name, a.now())
	if err == nil {
		err = in.Body.KeyLimits.Apply(&key, a.now())
	}
	if err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	if err := a.store.CreateKey(ctx, key); err != nil {
		return nil, a.storeError(ctx, "key", err)
	}
	a.audit(ctx, k, "key.create", "key:"+key.ID, "scope "+key.Scope+", prefix "+key.Prefix)
	out := &createKeyOutput{}
	out.Body.Key = key
	out.Body.Secret = secret
	return out, nil
}

func (a *API) revokeKey(ctx context.Context, in *keyIDInput) (*struct{}, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.store.RevokeKey(ctx, k.Workspace, in.ID, a.now().UTC()); err != nil {
		if errors.Is(err, store.ErrLastAdminKey) {
			return nil, huma.Error409Conflict("key " + in.ID + " is the last admin key of workspace " + k.Workspace +
				": revoking it would leave no way in; create another admin key first")
		}
		return nil, a.storeError(ctx, "key "+in.ID, err)
	}
	a.keys.forget(in.ID)
	a.audit(ctx, k, "key.revoke", "key:"+in.ID, "")
	return nil, nil
}

func (a *API) rotateKey(ctx context.Context, in *rotateKeyInput) (*createKeyOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	overlap := DefaultRotateOverlap
	if in.Body != nil && in.Body.Overlap != "" {
		if overlap, err = time.ParseDuration(in.Body.Overlap); err != nil || overlap < 0 {
			return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("overlap %q: want a duration of 0 or more, e.g. 24h", in.Body.Overlap))
		}
	}
	keys, err := a.store.Keys(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "key "+in.ID, err)
	}
	i := slices.IndexFunc(keys, func(x tenant.APIKey) bool { return x.ID == in.ID })
	if i < 0 {
		return nil, huma.Error404NotFound("key " + in.ID + " not found")
	}
	now := a.now().UTC()
	if keys[i].Revoked != nil || keys[i].Expired(now) {
		return nil, huma.Error422UnprocessableEntity("key " + in.ID + " is revoked or expired: create a new key instead")
	}
	secret, next, err := Successor(keys[i], now)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	ends := now.Add(overlap)
	if err := a.store.RotateKey(ctx, k.Workspace, in.ID, next, ends); err != nil {
		return nil, a.storeError(ctx, "key "+in.ID, err)
	}
	a.keys.forget(in.ID)
	a.audit(ctx, k, "key.rotate", "key:"+in.ID, "successor key:"+next.ID+", prefix "+next.Prefix+"; the old key expires "+ends.Format(time.RFC3339))
	out := &createKeyOutput{}
	out.Body.Key = next
	out.Body.Secret = secret
	return out, nil
}
