package decode

import (
	"errors"
	"testing"
)

// TestWithFormat: a decoder's *Error already names its format; any other
// error gets it once.
func TestWithFormat(t *testing.T) {
	de := &Error{Format: "windows", Offset: 3, Reason: "invalid JSON: x"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{de, "windows: invalid JSON: x at byte 3"},
		{errors.New("short read"), "windows: short read"},
	} {
		if got := WithFormat("windows", c.err); got.Error() != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	if WithFormat("windows", nil) != nil {
		t.Error("nil error not kept nil")
	}
}
