package jsonscan

import "strconv"

// SyntaxError says where a record stops being JSON and why.
type SyntaxError struct {
	// Offset is the byte at fault: the first byte that cannot continue
	// valid JSON, or len(record) when the record ends too early. It is the
	// offset encoding/json reports less one (or, at the end, the same).
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return e.Msg + " at byte " + strconv.Itoa(e.Offset)
}

// describe names byte c for an error message.
func describe(c byte) string {
	switch {
	case c == '\'':
		return `"'"`
	case c >= 0x20 && c < 0x7f:
		return "'" + string(rune(c)) + "'"
	default:
		return "byte 0x" + strconv.FormatUint(uint64(c), 16)
	}
}
