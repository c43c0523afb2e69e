package tenant

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("the right password was refused")
	}
	for _, wrong := range []string{"correct horse batterY", "", "correct horse battery "} {
		if CheckPassword(h, wrong) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was hashed")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=0,t=3,p=1$AAAA$AAAA", "$bcrypt$x", h[:len(h)-4] + "!!!!", "$argon2id$v=18" + h[len("$argon2id$v=19"):]} {
		if CheckPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestUserNamesAndRoles(t *testing.T) {
	for _, ok := range []string{"alice", "bob.smith@example.org", "r_2-d2"} {
		if err := ValidUserName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "x/y", strings.Repeat("a", 65), "eve\x00"} {
		if ValidUserName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	u := User{Roles: []Membership{{Workspace: "acme", Role: RoleResponder}}}
	if u.RoleIn("acme") != RoleResponder || u.RoleIn("other") != "" {
		t.Errorf("RoleIn: %q %q", u.RoleIn("acme"), u.RoleIn("other"))
	}
	for role, scope := range map[string]string{RoleAdmin: ScopeAdmin, RoleResponder: ScopeResponder, RoleReader: ScopeRead, "root": ""} {
		if got := RoleScope(role); got != scope {
			t.Errorf("RoleScope(%q) = %q, want %q", role, got, scope)
		}
	}
}
