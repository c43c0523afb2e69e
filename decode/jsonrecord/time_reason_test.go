package jsonrecord

import (
	"strings"
	"testing"
	"time"
)

// TestFieldTimeReasonBounded: an unreadable time stamp of a megabyte does
// not come back whole in the error reason (it ends up in the quarantine).
func TestFieldTimeReasonBounded(t *testing.T) {
	var tt time.Time
	err := FieldTime("json", "time", strings.Repeat("x", 1<<20), &tt)
	if err == nil {
		t.Fatal("no error")
	}
	if len(err.Error()) > 256 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Errorf("reason of %d bytes: %.200s", len(err.Error()), err)
	}
}
