package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Asset types, as enrich/assets matches them.
const (
	AssetHost          = "host"
	AssetNetwork       = "network"
	AssetAccount       = "account"
	AssetDatabase      = "database"
	AssetCloudResource = "cloud_resource"
)

// AssetTypes are the asset types, and Criticalities the criticalities
// from lowest to highest.
var (
	AssetTypes    = []string{AssetHost, AssetNetwork, AssetAccount, AssetDatabase, AssetCloudResource}
	Criticalities = []string{"low", "medium", "high", "critical"}
)

// Asset is one entry of a workspace's inventory: what enrich/assets reads
// from an inventory file, kept in the store so that the API can change it.
// A name is unique in its workspace.
type Asset struct {
	Workspace string `json:"-"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	// Match lists what else identifies the asset (a host's other names and
	// addresses, a network's CIDR ranges, an account's other names, a cloud
	// resource's account or resource ids).
	Match       []string  `json:"match,omitempty"`
	Criticality string    `json:"criticality,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Updated     time.Time `json:"updated"`
}

// Assets keeps workspaces' asset inventories. It is apart from Store so
// that a store may come without it; store/sqlite has both.
type Assets interface {
	// Assets lists a workspace's assets by name.
	Assets(ctx context.Context, workspace string) ([]Asset, error)
	// Asset returns one asset; ErrNotFound when there is none of name.
	Asset(ctx context.Context, workspace, name string) (Asset, error)
	// CreateAsset adds an asset to an existing workspace; ErrConflict when
	// one of its name exists.
	CreateAsset(ctx context.Context, a Asset) error
	// PutAsset creates the asset or replaces the one of its name, and
	// reports whether it created it.
	PutAsset(ctx context.Context, a Asset) (created bool, err error)
	// ReplaceAssets makes list the workspace's whole inventory, in one
	// transaction.
	ReplaceAssets(ctx context.Context, workspace string, list []Asset) error
	// DeleteAsset deletes one asset; ErrNotFound when there is none of
	// name.
	DeleteAsset(ctx context.Context, workspace, name string) error
}

// MaxAssets bounds a workspace's inventory, and MaxAssetValues the
// entries of an asset's match and tags.
const (
	MaxAssets      = 100_000
	MaxAssetValues = 256
)

// CheckAsset normalizes a (criticality lowercased, a network's ranges
// masked) and checks it: a name of 1–256 characters without control
// characters, a known type and criticality, a network named by or
// matching CIDR ranges only. Errors name the asset and wrap ErrInvalid.
func CheckAsset(a *Asset) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("asset %q: %s: %w", a.Name, fmt.Sprintf(format, args...), ErrInvalid)
	}
	if a.Name == "" || len(a.Name) > 256 || !utf8.ValidString(a.Name) || strings.ContainsFunc(a.Name, isControl) {
		return bad("name must be 1 to 256 characters, none of them control characters")
	}
	if !slices.Contains(AssetTypes, a.Type) {
		return bad("type %q: want %s", a.Type, strings.Join(AssetTypes, ", "))
	}
	a.Criticality = strings.ToLower(a.Criticality)
	if a.Criticality != "" && !slices.Contains(Criticalities, a.Criticality) {
		return bad("criticality %q: want %s", a.Criticality, strings.Join(Criticalities, ", "))
	}
	if len(a.Match) > MaxAssetValues || len(a.Tags) > MaxAssetValues {
		return bad("at most %d match entries and %d tags", MaxAssetValues, MaxAssetValues)
	}
	for i, m := range a.Match {
		if m == "" || len(m) > 1024 || strings.ContainsFunc(m, isControl) {
			return bad("match entry %d: 1 to 1024 characters, none of them control characters", i+1)
		}
	}
	if a.Type == AssetNetwork {
		if _, err := netip.ParsePrefix(a.Name); err != nil && len(a.Match) == 0 {
			return bad("a network's name must be a CIDR range, or its ranges listed under match")
		}
		for i, m := range a.Match {
			p, err := netip.ParsePrefix(m)
			if err != nil {
				return bad("match entry %d: %q is not a CIDR range", i+1, m)
			}
			a.Match[i] = p.Masked().String()
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
