package incident

import (
	"fmt"
	"regexp"
	"strings"
)

// Rule kinds of a SensitivityRule: the DataAccess kinds, and "any".
const RuleAnyKind = "any"

// SensitivityRule labels data whose name matches Pattern.
//
// Pattern is a glob, compared without regard to case: `*` matches any run
// of characters within a path segment, `**` any run across segments, `?`
// one character, `{a,b}` one of the alternatives. How a pattern meets a
// name depends on the kind:
//
//   - file and object: paths, `\` read as `/`. A pattern without `/` is
//     matched against the last segment (the file name); one starting with
//     `/` or a drive (`c:/`) against the whole path; any other against the
//     path's trailing segments (".aws/credentials" matches
//     "/home/bob/.aws/credentials"). For objects the path is
//     "bucket/key".
//   - table and column: names, where `*` also matches dots. A pattern
//     without a dot is matched against the last part of a qualified name
//     ("users" matches "shop.dbo.users"); one with a dot against the
//     trailing parts. A column is matched by its name, or as
//     "table.column" by a pattern with a dot.
//   - bucket: the bucket or storage container's name; bucket rules also
//     label the objects in the bucket.
//   - any: every kind, each as above.
type SensitivityRule struct {
	Name    string      `json:"name" yaml:"name"`
	Kind    string      `json:"kind" yaml:"kind"`
	Pattern string      `json:"pattern" yaml:"pattern"`
	Label   Sensitivity `json:"label" yaml:"label"`
}

// Classifier labels files, tables, columns and storage objects by rules:
// of the rules that match, the most sensitive label wins (the first listed
// among equals), and data no rule matches gets the fallback label.
type Classifier struct {
	rules    []compiledRule
	fallback Sensitivity
}

type compiledRule struct {
	SensitivityRule
	re *regexp.Regexp
	// shape of the pattern, which decides what part of a path it is
	// matched against (see SensitivityRule).
	hasSlash, anchored, hasDot bool
}

var ruleKinds = map[string]bool{
	DataFile: true, DataTable: true, DataColumn: true, DataObject: true, DataBucket: true, RuleAnyKind: true,
}

// NewClassifier compiles rules in order. A rule with an unknown kind or
// label, or a pattern that does not compile, is an error naming the rule;
// a fallback of "" means Internal.
func NewClassifier(rules []SensitivityRule, fallback Sensitivity) (*Classifier, error) {
	if fallback == "" {
		fallback = Internal
	}
	if fallback.Rank() < 0 {
		return nil, fmt.Errorf("default sensitivity %q: want public, internal, confidential or restricted", fallback)
	}
	c := &Classifier{fallback: fallback, rules: make([]compiledRule, 0, len(rules))}
	for i, r := range rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		r.Kind = strings.ToLower(strings.TrimSpace(r.Kind))
		if r.Kind == "" {
			r.Kind = RuleAnyKind
		}
		if !ruleKinds[r.Kind] {
			return nil, fmt.Errorf("sensitivity rule %s: kind %q: want file, table, column, object, bucket or any", name, r.Kind)
		}
		r.Label = Sensitivity(strings.ToLower(string(r.Label)))
		if r.Label.Rank() < 0 {
			return nil, fmt.Errorf("sensitivity rule %s: label %q: want public, internal, confidential or restricted", name, r.Label)
		}
		p := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(r.Pattern), `\`, "/"))
		pathKind := r.Kind == DataFile || r.Kind == DataObject
		re, err := compileGlob(p, pathKind || r.Kind == RuleAnyKind && strings.Contains(p, "/"))
		if err != nil {
			return nil, fmt.Errorf("sensitivity rule %s: pattern %q: %w", name, r.Pattern, err)
		}
		r.Name = name
		c.rules = append(c.rules, compiledRule{
			SensitivityRule: r, re: re,
			hasSlash: strings.Contains(p, "/"),
			anchored: strings.HasPrefix(p, "/") || hasDrive(p),
			hasDot:   strings.Contains(p, "."),
		})
	}
	return c, nil
}

// MustClassifier is NewClassifier for rules known to compile (the
// defaults); it panics otherwise.
func MustClassifier(rules []SensitivityRule, fallback Sensitivity) *Classifier {
	c, err := NewClassifier(rules, fallback)
	if err != nil {
		panic(err)
	}
	return c
}

// Default returns the label of data no rule matches.
func (c *Classifier) Default() Sensitivity { return c.fallback }

// Classify labels the data of kind (DataFile, DataTable…) named name in
// container (a table's database, an object's bucket, a column's table):
// the most sensitive label of the rules that match, with the rule's name,
// or the fallback label and "" when none does.
func (c *Classifier) Classify(kind, name, container string) (Sensitivity, string) {
	best, rule := Sensitivity(""), ""
	consider := func(r *compiledRule) {
		if best == "" || r.Label.Rank() > best.Rank() {
			best, rule = r.Label, r.Name
		}
	}
	for i := range c.rules {
		r := &c.rules[i]
		if r.Kind != RuleAnyKind && r.Kind != kind && !(kind == DataObject && r.Kind == DataBucket) {
			continue
		}
		if best != "" && r.Label.Rank() <= best.Rank() {
			continue // it could not win
		}
		if r.matches(kind, name, container) {
			consider(r)
		}
	}
	if best == "" {
		return c.fallback, ""
	}
	return best, rule
}

func (r *compiledRule) matches(kind, name, container string) bool {
	name, container = strings.ToLower(name), strings.ToLower(container)
	switch kind {
	case DataFile:
		return r.matchPath(strings.ReplaceAll(name, `\`, "/"))
	case DataObject:
		if r.Kind == DataBucket {
			return container != "" && r.matchBucket(container)
		}
		key := strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/")
		if container != "" {
			key = container + "/" + key
		}
		return r.matchPath(key)
	case DataBucket:
		return r.matchBucket(name)
	case DataTable:
		return r.matchName(name)
	case DataColumn:
		if r.hasDot && container != "" {
			return r.matchName(container + "." + name) // "users.password"
		}
		return r.matchName(name)
	}
	return r.re.MatchString(name)
}

// matchPath matches a path: the whole path, its trailing segments, or its
// last segment, as the pattern's shape says.
func (r *compiledRule) matchPath(p string) bool {
	switch {
	case r.anchored:
		return r.re.MatchString(p)
	case !r.hasSlash:
		return r.re.MatchString(p[strings.LastIndexByte(p, '/')+1:])
	}
	for {
		if r.re.MatchString(p) {
			return true
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[i+1:]
	}
}

// matchBucket matches a bucket's name, or an Azure container's
// ("account/container") whole or by the container's own name.
func (r *compiledRule) matchBucket(n string) bool {
	return r.re.MatchString(n) || strings.Contains(n, "/") && r.re.MatchString(n[strings.LastIndexByte(n, '/')+1:])
}

// matchName matches a dotted name whole or by its trailing parts
// ("users" and "dbo.users" both match "shop.dbo.users").
func (r *compiledRule) matchName(n string) bool {
	if r.re.MatchString(n) {
		return true
	}
	for {
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return false
		}
		n = n[i+1:]
		if r.re.MatchString(n) {
			return true
		}
	}
}

func hasDrive(p string) bool {
	return len(p) >= 3 && p[1] == ':' && p[2] == '/' && p[0] >= 'a' && p[0] <= 'z'
}

// compileGlob turns a lower-cased glob into an anchored regular
// expression. In a path glob `*` and `?` stop at `/`; elsewhere they match
// anything.
func compileGlob(p string, path bool) (*regexp.Regexp, error) {
	if p == "" {
		return nil, fmt.Errorf("empty")
	}
	var b strings.Builder
	b.WriteString("^")
	star, one := ".*", "."
	if path {
		star, one = "[^/]*", "[^/]"
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?") // **/ : any leading directories, or none
				} else {
					b.WriteString(".*")
				}
				continue
			}
			b.WriteString(star)
		case '?':
			b.WriteString(one)
		case '{':
			if depth > 0 {
				return nil, fmt.Errorf("nested {")
			}
			depth++
			b.WriteString("(?:")
		case '}':
			if depth == 0 {
				return nil, fmt.Errorf("} without {")
			}
			depth--
			b.WriteString(")")
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		default:
			j := i + 1
			for j < len(p) && !strings.ContainsRune("*?{},", rune(p[j])) {
				j++
			}
			b.WriteString(regexp.QuoteMeta(p[i:j]))
			i = j - 1
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("{ without }")
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// DefaultSensitivityRules are vigil's starting rules: credentials and
// secrets, card, identity, health, pay and bank data are restricted;
// customer, user, order and employee records, database dumps and backups
// confidential; configuration and logs internal; public web roots and
// static buckets public. A workspace's own rules replace them.
func DefaultSensitivityRules() []SensitivityRule {
	r := func(name, kind, pattern string, label Sensitivity) SensitivityRule {
		return SensitivityRule{Name: name, Kind: kind, Pattern: pattern, Label: label}
	}
	return []SensitivityRule{
		// Credentials and secrets on disk.
		r("unix-password-hashes", DataFile, "/etc/{shadow,gshadow,shadow-,security/opasswd}", Restricted),
		r("sudoers", DataFile, "/etc/sudoers", Restricted),
		r("windows-registry-secrets", DataFile, "**/system32/config/{sam,security,system}", Restricted),
		r("active-directory-database", RuleAnyKind, "ntds.dit", Restricted),
		r("lsass-dump", RuleAnyKind, "lsass*.dmp", Restricted),
		r("ssh-private-keys", RuleAnyKind, "{id_rsa,id_dsa,id_ecdsa,id_ed25519,*.ppk}", Restricted),
		r("private-keys", RuleAnyKind, "*.{key,pem,pfx,p12,jks,keystore}", Restricted),
		r("password-vaults", RuleAnyKind, "*.{kdbx,kdb,psafe3,1pif,agilekeychain}", Restricted),
		r("cloud-credentials", DataFile, "{.aws/credentials,.aws/config,.azure/accesstokens.json,.azure/msal_token_cache.*,.config/gcloud/**,.kube/config,.docker/config.json}", Restricted),
		r("stored-passwords", RuleAnyKind, "{.git-credentials,.netrc,.pgpass,.my.cnf,.env,.env.*,wp-config.php,web.config,unattend.xml,credentials.xml}", Restricted),
		r("secret-names", RuleAnyKind, "*{secret,credential,passwd,password}*", Restricted),
		r("browser-logins", DataFile, "{login data,logins.json,key4.db,cookies.sqlite}", Restricted),

		// Database credential stores.
		r("database-logins", DataTable, "{mysql.user,pg_authid,pg_shadow,sys.sql_logins,sysxlogins,dba_users,sys.user$}", Restricted),

		// Card, identity, bank, pay and health data.
		r("card-tables", DataTable, "*{card,cvv,cvc,cc_num,ccnum}*", Restricted),
		r("card-columns", DataColumn, "*{card,cvv,cvc,cc_num,ccnum}*", Restricted),
		r("card-pan", DataColumn, "{pan,*_pan,pan_*,primary_account_number}", Restricted),
		r("national-ids", RuleAnyKind, "{ssn,*_ssn,ssn_*,*social_security*,*national_id*,*passport*,*tax_id*,nino}", Restricted),
		r("credential-columns", DataColumn, "{*hash*,*salt*,*token*,*api_key*,*apikey*,*private_key*,pwd,*_pwd,otp_*,*mfa_secret*}", Restricted),
		r("bank-data", RuleAnyKind, "{*iban*,*account_number*,*acct_num*,*routing_number*,*swift*,*bank_account*}", Restricted),
		r("pay-data", RuleAnyKind, "{*salary*,*salaries*,*payroll*,*compensation*}", Restricted),
		r("health-data", RuleAnyKind, "{*patient*,*diagnos*,*medical*,*prescription*,*health_record*}", Restricted),

		// Records about people and business.
		r("people-and-business-records", DataTable, "{*customer*,*client*,*user*,*member*,*account*,*order*,*invoice*,*employee*,*staff*,*contact*,*person*,*people*}", Confidential),
		r("personal-columns", DataColumn, "{*email*,*phone*,*mobile*,*address*,*birth*,dob,*first_name*,*last_name*,*surname*}", Confidential),
		r("database-dumps", RuleAnyKind, "*.{sql,sql.gz,dump,bak,bacpac,mdf,ldf,sqlite,db}", Confidential),
		r("backups", RuleAnyKind, "*backup*", Confidential),
		r("business-documents", DataBucket, "*{finance,financial,hr,legal,contracts,invoices,reports}*", Confidential),
		r("home-directories", DataFile, "{/home/**,/root/**,c:/users/**}", Confidential),

		// Configuration and logs.
		r("system-configuration", DataFile, "{/etc/**,c:/windows/system32/drivers/etc/**}", Internal),
		r("configuration-files", RuleAnyKind, "*.{conf,cfg,ini,config,yaml,yml,toml,properties}", Internal),
		r("logs", RuleAnyKind, "{*.log,*.log.*,*.evtx}", Internal),
		r("log-directories", DataFile, "{/var/log/**,c:/windows/system32/winevt/**}", Internal),
		r("log-buckets", DataBucket, "*{log,logs,logging,cloudtrail,audit}*", Internal),

		// What is published anyway.
		r("public-web-roots", DataFile, "{/var/www/**,/srv/www/**,/usr/share/nginx/html/**,**/public_html/**,**/htdocs/**,**/wwwroot/**}", Public),
		r("public-buckets", DataBucket, "*{public,static,cdn,assets,website,www}*", Public),
	}
}
