package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/alert"
)

// AlertsByID returns those alerts of workspace with these ids that exist,
// by id: an incident's assessment reads hundreds of alerts, and one query
// per alert cost far more than the alerts themselves.
func (db *DB) AlertsByID(ctx context.Context, workspace string, ids []string) (map[string]alert.Alert, error) {
	out := make(map[string]alert.Alert, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, workspace)
		for _, id := range chunk {
			args = append(args, id)
		}
		as, err := list(ctx, db, "alerts of workspace "+workspace, scanAlert,
			`SELECT `+alertColumns+` FROM alerts WHERE workspace = ? AND id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("alerts by id: %w", err)
		}
		for _, a := range as {
			out[a.ID] = a
		}
	}
	return out, nil
}
