package sqlite

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/alert"
)

// AlertFromRow is the alert a row of the alerts table stands for, its
// values by column as database/sql gives them (string, []byte, int64,
// nil): what a copy of the store to another (vigil store copy) reads,
// since the row's document holds only part of the alert.
func AlertFromRow(row map[string]any) (alert.Alert, error) {
	cols := strings.Split(alertColumns, ", ")
	vals := make([]any, len(cols))
	for i, c := range cols {
		v, ok := row[c]
		if !ok {
			return alert.Alert{}, fmt.Errorf("alert row without column %s", c)
		}
		vals[i] = v
	}
	return scanAlert(valuesRow(vals))
}

// valuesRow scans values already read, as a *sql.Row would.
type valuesRow []any

func (r valuesRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("scan %d values into %d", len(r), len(dest))
	}
	for i, d := range dest {
		v := r[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		switch d := d.(type) {
		case *string:
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("value %d: %T into a string", i, v)
			}
			*d = s
		case *int64:
			n, ok := v.(int64)
			if !ok {
				return fmt.Errorf("value %d: %T into an integer", i, v)
			}
			*d = n
		case *sql.NullString:
			if err := d.Scan(v); err != nil {
				return fmt.Errorf("value %d: %w", i, err)
			}
		default:
			return fmt.Errorf("value %d: cannot scan into %T", i, d)
		}
	}
	return nil
}
