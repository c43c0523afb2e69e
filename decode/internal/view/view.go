// Package view gives views between a record's bytes and strings without
// copying. Decoders store such views as event values, valid until the next
// record: the bytes must not change while a view is in use.
package view

import "unsafe"

// String views b as a string.
func String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Bytes views s as bytes, for calls that only read them (Fields.SetName,
// which copies a name before an open Dict keeps it).
func Bytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
