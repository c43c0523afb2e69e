package incident

import (
	"strings"
	"testing"
)

func TestNewClassifierRefusesBadRules(t *testing.T) {
	for _, tc := range []struct {
		rule SensitivityRule
		want string
	}{
		{SensitivityRule{Name: "secret", Kind: DataFile, Pattern: "*.x", Label: "top-secret"}, `sensitivity rule secret: label "top-secret"`},
		{SensitivityRule{Name: "k", Kind: "blob", Pattern: "*.x", Label: Public}, `sensitivity rule k: kind "blob"`},
		{SensitivityRule{Name: "open", Kind: DataFile, Pattern: "*.{a,b", Label: Public}, `sensitivity rule open: pattern "*.{a,b": { without }`},
		{SensitivityRule{Name: "close", Kind: DataFile, Pattern: "a}", Label: Public}, `} without {`},
		{SensitivityRule{Name: "nest", Kind: DataFile, Pattern: "{a,{b}}", Label: Public}, `nested {`},
		{SensitivityRule{Kind: DataTable, Pattern: " ", Label: Public}, `sensitivity rule #1: pattern " ": empty`},
	} {
		_, err := NewClassifier([]SensitivityRule{tc.rule}, Internal)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want it to say %q", tc.rule, err, tc.want)
		}
	}
	if _, err := NewClassifier(nil, "secret"); err == nil {
		t.Error("an unknown default label was accepted")
	}
	c, err := NewClassifier(nil, "")
	if err != nil || c.Default() != Internal {
		t.Errorf("empty default: %v, %v; want internal", c, err)
	}
}

func TestDefaultSensitivityRules(t *testing.T) {
	c, err := NewClassifier(DefaultSensitivityRules(), Internal)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, name, container string
		want                  Sensitivity
		rule                  string
	}{
		{DataFile, "/etc/shadow", "", Restricted, "unix-password-hashes"},
		{DataFile, `C:\Windows\NTDS\ntds.dit`, "", Restricted, "active-directory-database"},
		{DataFile, `C:\Windows\System32\config\SAM`, "", Restricted, "windows-registry-secrets"},
		{DataFile, "/home/deploy/.aws/credentials", "", Restricted, "cloud-credentials"},
		{DataFile, "/home/deploy/.ssh/id_ed25519", "", Restricted, "ssh-private-keys"},
		{DataFile, `D:\Shares\IT\Passwords.KDBX`, "", Restricted, "password-vaults"},
		{DataFile, "/var/www/html/wp-config.php", "", Restricted, "stored-passwords"},
		{DataFile, "/var/www/html/index.html", "", Public, "public-web-roots"},
		{DataFile, "/var/log/auth.log", "", Internal, "logs"},
		{DataFile, "/etc/nginx/nginx.conf", "", Internal, "system-configuration"},
		{DataFile, "/home/deploy/notes.txt", "", Confidential, "home-directories"},
		{DataFile, "/opt/app/bin/server", "", Internal, ""},
		{DataTable, "dbo.payment_cards", "SQL-SHOP-01/shop", Restricted, "card-tables"},
		{DataTable, "dbo.customers", "SQL-SHOP-01/shop", Confidential, "people-and-business-records"},
		{DataTable, "mysql.user", "", Restricted, "database-logins"},
		{DataTable, "HR.Salaries", "", Restricted, "pay-data"},
		{DataTable, "public.patients", "", Restricted, "health-data"},
		{DataTable, "dbo.products", "", Internal, ""},
		{DataColumn, "cvv", "dbo.payment_cards", Restricted, "card-columns"},
		{DataColumn, "pan", "orders", Restricted, "card-pan"},
		{DataColumn, "company", "orders", Internal, ""}, // "pan" is inside it, but no word of its own
		{DataColumn, "password_hash", "users", Restricted, "secret-names"},
		{DataColumn, "Email", "users", Confidential, "personal-columns"},
		{DataColumn, "iban", "", Restricted, "bank-data"},
		{DataObject, "exports/2026/customers.sql.gz", "acme-data", Confidential, "database-dumps"},
		{DataObject, "img/logo.png", "acme-static-assets", Public, "public-buckets"},
		{DataObject, "q1/summary.pdf", "finance-reports", Confidential, "business-documents"},
		{DataObject, "keys/prod.pem", "acme-static-assets", Restricted, "private-keys"},
		{DataBucket, "acme-cloudtrail-logs", "", Internal, "log-buckets"},
		{DataBucket, "shopaudit/finance", "", Confidential, "business-documents"},
	} {
		got, rule := c.Classify(tc.kind, tc.name, tc.container)
		if got != tc.want || rule != tc.rule {
			t.Errorf("Classify(%s, %q, %q) = %s by %q, want %s by %q", tc.kind, tc.name, tc.container, got, rule, tc.want, tc.rule)
		}
	}
}

func TestClassifierMostSensitiveWins(t *testing.T) {
	c, err := NewClassifier([]SensitivityRule{
		{Name: "web", Kind: DataFile, Pattern: "/srv/www/**", Label: Public},
		{Name: "dumps", Kind: RuleAnyKind, Pattern: "*.sql", Label: Confidential},
		{Name: "dumps-again", Kind: DataFile, Pattern: "**/*.sql", Label: Confidential},
		{Name: "shop", Kind: DataTable, Pattern: "shop.*", Label: Confidential},
		{Name: "cards", Kind: DataTable, Pattern: "*.cards", Label: Restricted},
		{Name: "anchored", Kind: DataFile, Pattern: "/data/*.csv", Label: Restricted},
	}, Public)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, name string
		want       Sensitivity
		rule       string
	}{
		{DataFile, "/srv/www/backup.sql", Confidential, "dumps"}, // public and confidential match: confidential wins, first among equals
		{DataFile, "/srv/www/index.html", Public, "web"},
		{DataTable, "shop.cards", Restricted, "cards"},
		{DataTable, "shop.items", Confidential, "shop"},
		{DataTable, "SHOP.ITEMS", Confidential, "shop"}, // without regard to case
		{DataFile, "/data/x.csv", Restricted, "anchored"},
		{DataFile, "/data/sub/x.csv", Public, ""}, // * stops at /
		{DataFile, "/mnt/data/x.csv", Public, ""}, // anchored at the root
		{DataFile, "/tmp/x", Public, ""},          // the fallback
	} {
		got, rule := c.Classify(tc.kind, tc.name, "")
		if got != tc.want || rule != tc.rule {
			t.Errorf("Classify(%s, %q) = %s by %q, want %s by %q", tc.kind, tc.name, got, rule, tc.want, tc.rule)
		}
	}
}

func TestClassifierPathShapes(t *testing.T) {
	c := MustClassifier([]SensitivityRule{
		{Name: "trailing", Kind: DataFile, Pattern: ".kube/config", Label: Restricted},
		{Name: "deep", Kind: DataFile, Pattern: "/backups/**/*.tar", Label: Confidential},
		{Name: "one", Kind: DataFile, Pattern: "report-?.pdf", Label: Confidential},
	}, Internal)
	for name, want := range map[string]Sensitivity{
		"/root/.kube/config":         Restricted,
		"/root/x.kube/config":        Internal, // segments, not characters
		"/backups/a/b/c/x.tar":       Confidential,
		"/backups/x.tar":             Confidential,
		"/other/backups/x.tar":       Internal,
		`C:\Reports\report-1.pdf`:    Confidential,
		`C:\Reports\report-12.pdf`:   Internal,
		"/home/u/.kube/config.d/xyz": Internal,
	} {
		if got, _ := c.Classify(DataFile, name, ""); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestClassifierColumns(t *testing.T) {
	c := MustClassifier([]SensitivityRule{
		{Name: "user-passwords", Kind: DataColumn, Pattern: "users.password", Label: Restricted},
		{Name: "cards", Kind: DataColumn, Pattern: "*card*", Label: Restricted},
	}, Internal)
	for _, tc := range []struct {
		name, table string
		want        Sensitivity
	}{
		{"password", "dbo.users", Restricted},
		{"password", "products", Internal},    // the dotted pattern names the table
		{"id", "payment_cards", Internal},     // a plain pattern names the column, not its table
		{"card_number", "orders", Restricted}, // …wherever it is
		{"PASSWORD", "DBO.USERS", Restricted}, // without regard to case
		{"password", "", Internal},            // no table known
	} {
		if got, _ := c.Classify(DataColumn, tc.name, tc.table); got != tc.want {
			t.Errorf("%s of %q: %s, want %s", tc.name, tc.table, got, tc.want)
		}
	}
}

func FuzzClassifierPattern(f *testing.F) {
	for _, s := range []string{"*.{kdbx,kdb}", "**/system32/config/sam", "/etc/**", "a}", "{a,{b}}", "report-?.pdf", "c:/users/**", "x.y.*", "", "**"} {
		f.Add(s, "/home/bob/.aws/credentials")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		for _, kind := range []string{DataFile, DataTable, DataColumn, DataObject, DataBucket, RuleAnyKind} {
			c, err := NewClassifier([]SensitivityRule{{Name: "r", Kind: kind, Pattern: pattern, Label: Restricted}}, Public)
			if err != nil {
				if !strings.Contains(err.Error(), "sensitivity rule r") {
					t.Fatalf("error %q does not name the rule", err)
				}
				continue
			}
			for _, k := range []string{DataFile, DataTable, DataColumn, DataObject, DataBucket} {
				got, rule := c.Classify(k, name, name)
				if got != Restricted && got != Public || (got == Restricted) != (rule == "r") {
					t.Fatalf("%s %q by %q: %s by %q", k, name, pattern, got, rule)
				}
			}
			// a pattern without wildcards matches itself
			if !strings.ContainsAny(pattern, "*?{},/\\.") && strings.TrimSpace(pattern) == pattern {
				if got, _ := c.Classify(DataTable, pattern, ""); kind == DataTable && got != Restricted {
					t.Fatalf("table %q does not match its own name as a pattern", pattern)
				}
			}
		}
	})
}
