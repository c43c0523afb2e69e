package store

import (
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

func TestFoldCase(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"WORKSTATION5", "workstation5"},
		{"Administrator", "ADMINISTRATOR"},
		{"\u212a", "k"},        // Kelvin sign
		{"ſ", "S"},             // long s
		{"Σίσυφος", "ΣΊΣΥΦΟΣ"}, // final sigma
		{"ẞ", "ß"},             // capital sharp s
		{"FE80::1", "fe80::1"}, // IPv6
		{`C:\WINDOWS`, `c:\windows`},
	} {
		if FoldCase(c.a) != FoldCase(c.b) {
			t.Errorf("FoldCase(%q) = %q, FoldCase(%q) = %q: want equal", c.a, FoldCase(c.a), c.b, FoldCase(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{
		{"bad\xff", "bad\xfe"}, // invalid bytes stay distinct, not both U+FFFD
		{"bad\xff", "bad\ufffd"},
		{"a", "b"},
		{"ab", "a"},
	} {
		if FoldCase(c.a) == FoldCase(c.b) {
			t.Errorf("FoldCase(%q) = FoldCase(%q) = %q: want them apart", c.a, c.b, FoldCase(c.a))
		}
	}
}

// FoldedEqual is FoldCase compared, without the allocation.
func FuzzFoldedEqual(f *testing.F) {
	for _, s := range [][2]string{
		{"WORKSTATION5", "workstation5"}, {"\u212a", "K"}, {"bad\xff", "BAD\xff"}, {"bad\xff", "bad\ufffd"},
		{"Σίσυφος", "σίσυφοσ"}, {"ab", "a"}, {"", ""}, {"İ", "i"}, {"\xe2\x82A", "\xe2\x82a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, v, q string) {
		folded := FoldCase(q)
		if got, want := FoldedEqual(v, folded), FoldCase(v) == folded; got != want {
			t.Errorf("FoldedEqual(%q, FoldCase(%q) = %q) = %v, want %v (FoldCase(v) = %q)", v, q, folded, got, want, FoldCase(v))
		}
		if FoldCase(folded) != folded {
			t.Errorf("FoldCase(%q) = %q is not a fixed point", folded, FoldCase(folded))
		}
	})
}

func TestIgnoresCase(t *testing.T) {
	for _, c := range []struct {
		f          int
		product, v string
		want       bool
	}{
		{event.HostName, "linux", "web-01", true},
		{event.UserName, "linux", "root", true},
		{event.URLDomain, "", "example.com", true},
		{event.DBName, "postgres", "billing", true},
		{event.ProcessExecutable, "windows", `C:\x.exe`, true},
		{event.ProcessName, "windows", "cmd.exe", true},
		{event.ProcessName, "linux", "sshd", false},
		{event.FilePath, "linux", "/etc/passwd", false},
		{event.FilePath, "", `\\server\share\x`, true},
		{event.FilePath, "", `d:/data/x`, true},
		{event.URLOriginal, "", "https://example.com/A", false},
	} {
		if got := FieldIgnoresCase(c.f, c.product, c.v); got != c.want {
			t.Errorf("FieldIgnoresCase(%s, %q, %q) = %v, want %v", event.CommonName(c.f), c.product, c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		typ, v string
		want   bool
	}{
		{alert.EntityHost, "H", true}, {alert.EntityAccount, "Root", true}, {alert.EntityHash, "ABCDEF", true},
		{alert.EntityProcess, `C:\Windows\cmd.exe`, true}, {alert.EntityProcess, "/usr/bin/Foo", false},
		{alert.EntityURL, "https://example.com/A", false}, {"unknown", "X", false},
	} {
		if got := EntityIgnoresCase(c.typ, c.v); got != c.want {
			t.Errorf("EntityIgnoresCase(%s, %q) = %v, want %v", c.typ, c.v, got, c.want)
		}
	}
}
