package postgres

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/alert"
)

// AlertsByID returns those alerts of workspace with these ids that exist,
// by id: an incident's assessment reads hundreds of alerts, and one query
// per alert cost far more than the alerts themselves.
func (db *DB) AlertsByID(ctx context.Context, workspace string, ids []string) (map[string]alert.Alert, error) {
	out := make(map[string]alert.Alert, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	as, err := collect(ctx, db.pool, "alerts of workspace "+workspace, scanAlert,
		`SELECT `+alertColumns+` FROM alerts WHERE workspace = $1 AND id = ANY($2::text[])`, workspace, ids)
	if err != nil {
		return nil, fmt.Errorf("alerts by id: %w", err)
	}
	for _, a := range as {
		out[a.ID] = a
	}
	return out, nil
}
