package rule

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// codecRules are rules that use every part of the model the codec writes.
const codecRules = `
title: every part
id: 11111111-2222-3333-4444-555555555555
name: every_part
description: d
status: test
author: a
date: 2024-01-01
modified: 2024-02-02
level: high
tags: [attack.execution, attack.t1059]
references: [r]
falsepositives: [f]
remediation: block the source
confidence: high
outcome: success
aggregation: {window: 2h, by: [SourceIp, User]}
fields: [CommandLine]
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: ['\cmd.exe', '\pwsh*.exe']
    CommandLine|contains|windash: '-enc'
    CommandLine|re|i: '^a.+b$'
    SourceIp|cidr: 10.0.0.0/8
    Count|gt: 5
    Opt|exists: false
    Empty: null
    User|fieldref: TargetUser
    Utc|minute: 5
    Other|contains|all|cased: [x, y]
  kw:
    - evil
    - 'wild?card'
  listed:
    - A: 1
    - B: 2
  filter:
    Image: 'C:\Windows\*'
  condition: (sel or 1 of listed* or all of them) and not filter and kw
---
title: second
aggregation: {by: [x]}
logsource: {product: linux}
detection:
  s: {x: y}
  condition: s
`

func TestCodecRoundTrip(t *testing.T) {
	rules, errs := Parse("every.yml", []byte(codecRules))
	if len(errs) > 0 || len(rules) != 2 {
		t.Fatalf("%d rules, errors %v", len(rules), errs)
	}
	roundTrip(t, rules)
}

// Every SigmaHQ rule comes back from the codec as it was parsed.
func TestCodecRoundTripSigmaHQ(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "sigma")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SigmaHQ rules not found at %s: %v", dir, err)
	}
	rules, _ := Load(dir)
	roundTrip(t, rules)
}

func roundTrip(t *testing.T, rules []*Rule) {
	t.Helper()
	b := AppendRules(nil, rules)
	got, err := DecodeRules(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rules) {
		t.Fatalf("%d rules back, want %d", len(got), len(rules))
	}
	for i := range rules {
		if !reflect.DeepEqual(got[i], rules[i]) {
			t.Errorf("rule %s (%s) differs after the round trip", rules[i].Title, rules[i].File)
		}
	}
}

// A cut or damaged encoding is an error, never a panic or a wrong rule
// set passed off as good.
func TestCodecDamaged(t *testing.T) {
	rules, errs := Parse("every.yml", []byte(codecRules))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	b := AppendRules(nil, rules)
	for n := range len(b) {
		if _, err := DecodeRules(b[:n]); err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(b))
		}
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0xff
		DecodeRules(c) // must not panic; a flip inside a text may decode
	}
	if _, err := DecodeRules(append([]byte{CodecVersion + 1}, b[1:]...)); err == nil {
		t.Error("another codec version: no error")
	}
}

// The codec writes every field of the rule model: a new field must be
// added to it (and CodecVersion raised), which this count reminds of.
func TestCodecCoversModel(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeFor[Rule]():        8,
		reflect.TypeFor[Aggregation](): 2,
		reflect.TypeFor[Meta]():        15,
		reflect.TypeFor[Detection]():   3,
		reflect.TypeFor[Search]():      3,
		reflect.TypeFor[Matcher]():     11,
		reflect.TypeFor[Value]():       7,
		reflect.TypeFor[Token]():       2,
		reflect.TypeFor[Ref]():         2,
		reflect.TypeFor[Not]():         1,
		reflect.TypeFor[And]():         1,
		reflect.TypeFor[Or]():          1,
		reflect.TypeFor[Of]():          5,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, the codec writes %d: update codec.go and CodecVersion", typ, typ.NumField(), n)
		}
	}
}
