package stix

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/intel"
)

func TestPatternObservables(t *testing.T) {
	cases := []struct {
		pattern string
		want    []string // kind=value
		skipped int
	}{
		{`[ipv4-addr:value = '198.51.100.1']`, []string{"ip=198.51.100.1"}, 0},
		{`[ ipv4-addr:value = '10.0.0.0' ]`, []string{"ip=10.0.0.0"}, 0},
		{`[ipv4-addr:value = '223.166.0.0/15']`, []string{"cidr=223.166.0.0/15"}, 0},
		{`[ipv4-addr:value ISSUBSET '198.51.100.0/24']`, []string{"cidr=198.51.100.0/24"}, 0},
		{`[ipv4-addr:value == '198.51.100.7/32']`, []string{"ip=198.51.100.7"}, 0},
		{`[ipv6-addr:value = '2001:DB8::1']`, []string{"ip=2001:db8::1"}, 0},
		{`[ipv6-addr:value ISSUBSET '2001:db8::/32']`, []string{"cidr=2001:db8::/32"}, 0},
		{`[domain-name:value = 'Evil.Example.COM.']`, []string{"domain=evil.example.com"}, 0},
		{`[url:value = 'HTTP://Evil.Example.com/Gate.php#x']`, []string{"url=http://evil.example.com/Gate.php"}, 0},
		{`[file:hashes.'SHA-256' = 'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']`, []string{"sha256=ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"}, 0},
		{`[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6']`, []string{"md5=001dd76872d80801692ff942308c64e6"}, 0},
		{`[file:hashes.'SHA-1' = '68064fc152e23d56e541714af52651cb4ba81aaf']`, []string{"sha1=68064fc152e23d56e541714af52651cb4ba81aaf"}, 0},
		{`[email-addr:value = 'Boss@Example.org']`, []string{"email=boss@example.org"}, 0},
		{`[email-message:from_ref.value = 'a@example.org']`, []string{"email=a@example.org"}, 0},
		{`[network-traffic:dst_ref.value = '203.0.113.9']`, []string{"ip=203.0.113.9"}, 0},
		{`[network-traffic:src_ref.value ISSUBSET '203.0.113.0/24']`, []string{"cidr=203.0.113.0/24"}, 0},
		{`[network-traffic:dst_ref.value = 'c2.example.net']`, []string{"domain=c2.example.net"}, 0},
		{`[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/4.0 (evil\'s)']`, []string{"user_agent=Mozilla/4.0 (evil's)"}, 0},
		// OR of comparisons and of observations, IN: one indicator each.
		{`[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2']`, []string{"ip=198.51.100.1", "ip=198.51.100.2"}, 0},
		{`[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/x']`, []string{"domain=a.example", "url=http://b.example/x"}, 0},
		{`[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]`, []string{"ip=198.51.100.1", "ip=198.51.100.2"}, 0},
		// AND: every matchable comparison kept; the others reported.
		{`[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6' AND file:hashes.'SHA-1' = '68064fc152e23d56e541714af52651cb4ba81aaf']`,
			[]string{"md5=001dd76872d80801692ff942308c64e6", "sha1=68064fc152e23d56e541714af52651cb4ba81aaf"}, 0},
		{`[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 443]`, []string{"ip=203.0.113.9"}, 1},
		{`([ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'x.example'])`, []string{"ip=198.51.100.1", "domain=x.example"}, 0},
		{`[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']`, nil, 2},
		{`[ipv4-addr:value != '198.51.100.1']`, nil, 1},
		{`[ipv4-addr:value NOT = '198.51.100.1']`, nil, 1},
		{`[domain-name:value LIKE '%.example']`, nil, 1},
		{`[domain-name:value MATCHES '^a']`, nil, 1},
		{`[ipv4-addr:value = 'not-an-ip']`, nil, 1},
		{`[ipv4-addr:value = '2001:db8::1']`, nil, 1},
		{`[file:size > 100]`, nil, 1},
		{`[(domain-name:value = 'a.example' OR domain-name:value = 'b.example') AND EXISTS domain-name:resolves_to_refs]`, []string{"domain=a.example", "domain=b.example"}, 1},
	}
	for _, c := range cases {
		p, err := ParsePattern(c.pattern)
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		found, skipped, err := p.observables()
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		var got []string
		for _, f := range found {
			got = append(got, string(f.kind)+"="+f.value)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") || len(skipped) != c.skipped {
			t.Errorf("%s:\n got %v skipped %q\nwant %v skipped %d", c.pattern, got, skipped, c.want, c.skipped)
		}
	}
}

func TestPatternSequencesRefused(t *testing.T) {
	for _, s := range []string{
		`[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'a.example']`,
		`[ipv4-addr:value = '198.51.100.1'] WITHIN 300 SECONDS`,
		`[ipv4-addr:value = '198.51.100.1'] REPEATS 5 TIMES`,
		`[ipv4-addr:value = '198.51.100.1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`,
		`([ipv4-addr:value = '198.51.100.1'] OR [ipv4-addr:value = '198.51.100.2']) WITHIN 5.5 SECONDS`,
	} {
		p, err := ParsePattern(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if _, _, err := p.observables(); err == nil {
			t.Errorf("%s: taken as indicators; want refused", s)
		}
	}
}

func TestPatternSyntaxErrors(t *testing.T) {
	cases := []struct {
		pattern string
		offset  int
	}{
		{`ipv4-addr:value = '1.2.3.4'`, 0},        // no brackets
		{`[ipv4-addr:value = '1.2.3.4'`, 28},      // unclosed
		{`[ipv4-addr:value = '1.2.3.4]`, 19},      // unterminated string
		{`[ipv4-addr value = '1.2.3.4']`, 11},     // no colon
		{`[ipv4-addr:value ~ '1.2.3.4']`, 17},     // no such operator
		{`[ipv4-addr:value = '1.2.3.4'] AND`, 33}, // dangling AND
		{`[ipv4-addr:value = '1.2.3.4'] WITHIN -5 SECONDS`, 37},
		{`[file:hashes.'SHA-256' = h'0g']`, 25},
		{`[a:b = 't\x']`, 9},
		{`[a:b = t'yesterday']`, 7},
		{`[a:b IN ('x' 'y')]`, 13},
		{`[a:b = 1] [a:b = 2]`, 10},
		{strings.Repeat("(", 200) + `[a:b = 1]` + strings.Repeat(")", 200), 101},
	}
	for _, c := range cases {
		_, err := ParsePattern(c.pattern)
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want a PatternError", c.pattern, err)
			continue
		}
		if pe.Offset != c.offset {
			t.Errorf("%s: offset %d (%s), want %d", c.pattern, pe.Offset, pe.Msg, c.offset)
		}
	}
}

func TestPatternOfParsesBack(t *testing.T) {
	for _, ind := range roundTripIndicators() {
		s, err := PatternOf(&ind)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		found, skipped, err := p.observables()
		if err != nil || len(skipped) > 0 || len(found) != 1 || found[0] != (observed{ind.Kind, ind.Value}) {
			t.Errorf("%s: found %v skipped %v err %v; want %s=%s", s, found, skipped, err, ind.Kind, ind.Value)
		}
	}
	bad := intel.Indicator{Kind: "asn", Value: "1"}
	if _, err := PatternOf(&bad); err == nil {
		t.Error("a kind without a pattern gave no error")
	}
}
