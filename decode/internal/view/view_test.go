package view

import "testing"

func TestViews(t *testing.T) {
	if String(nil) != "" || String([]byte{}) != "" || String([]byte("ab")) != "ab" {
		t.Error("String")
	}
	if string(Bytes("ab")) != "ab" || len(Bytes("")) != 0 {
		t.Error("Bytes")
	}
	b := []byte("xy")
	if a := testing.AllocsPerRun(10, func() { _ = String(b); _ = Bytes("z") }); a != 0 {
		t.Errorf("%.1f allocs", a)
	}
}
