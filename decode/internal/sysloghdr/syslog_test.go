package sysloghdr

import (
	"testing"
	"time"
)

var ref = time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)

func TestStamp(t *testing.T) {
	for in, want := range map[string]string{
		"1625748509151":                "2021-07-08T12:48:29.151Z",
		"1579172447":                   "2020-01-16T11:00:47Z",
		"2022-07-25T04:56:13-05:00":    "2022-07-25T09:56:13Z",
		"Sep 19 2012 13:53:33":         "2012-09-19T13:53:33Z",
		"Oct 04 2012 13:15:29.5 CEST":  "2012-10-04T11:15:29.5Z",
		"Mar  1 2021 20:48:21 +0100":   "2021-03-01T19:48:21Z",
		"Jan  9 23:59:59":              "2025-01-09T23:59:59Z",
		"Dec 31 23:59:59":              "2024-12-31T23:59:59Z", // more than a day ahead: last year
		"feb 29 2024 00:00:00 GMT":     "2024-02-29T00:00:00Z",
		"May 01 2025 18:00:02.009 PDT": "2025-05-02T01:00:02.009Z",
	} {
		got, ok := Stamp(in, ref, nil)
		w, _ := time.Parse(time.RFC3339Nano, want)
		if !ok || !got.Equal(w) || got.Location() != time.UTC {
			t.Errorf("Stamp(%q) = %v, %v; want %v", in, got, ok, w)
		}
	}
	for _, in := range []string{"", "DATE", "N/A", "Feb 30 2024 00:00:00", "Sep 19 2012 25:00:00", "Sep 19 2012 13:53:33 XYZ", "Foo 19 2012 13:53:33", "Sep 19 2012"} {
		if got, ok := Stamp(in, ref, nil); ok {
			t.Errorf("Stamp(%q) = %v, want failure", in, got)
		}
	}
	loc := time.FixedZone("UTC-5", -5*3600)
	if got, _ := Stamp("Sep 19 2012 13:53:33", ref, loc); !got.Equal(time.Date(2012, 9, 19, 18, 53, 33, 0, time.UTC)) {
		t.Errorf("with Location: %v", got)
	}
}

func TestJavaStamp(t *testing.T) {
	for _, tt := range []struct{ layout, in, want string }{
		{"MMM dd yyyy HH:mm:ss.SSS z", "May 01 2025 18:00:02.009 CEST", "2025-05-01T16:00:02.009Z"},
		{"MMM dd yyyy HH:mm:ss Z", "Sep 23 2022 09:51:24 +0200", "2022-09-23T07:51:24Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-05-06T10:15:30.500+02:00", "2024-05-06T08:15:30.5Z"},
		{"dd/MMM/yyyy:HH:mm:ss Z", "06/May/2024:09:30:00 -0500", "2024-05-06T14:30:00Z"},
		{"EEE, d MMM yy h:mm:ss a", "Mon, 6 May 24 9:05:01 PM", "2024-05-06T21:05:01Z"},
		{"MMMM d HH:mm:ss", "January 9 10:00:00", "2025-01-09T10:00:00Z"},
		{"yyyy-MM-dd HH:mm:ss", "2024-05-06 08:00:00  ", "2024-05-06T08:00:00Z"},
	} {
		got, ok := JavaStamp(tt.layout, tt.in, ref, nil)
		w, _ := time.Parse(time.RFC3339Nano, tt.want)
		if !ok || !got.Equal(w) {
			t.Errorf("JavaStamp(%q, %q) = %v, %v; want %v", tt.layout, tt.in, got, ok, w)
		}
	}
	for _, tt := range []struct{ layout, in string }{
		{"MMM dd yyyy HH:mm:ss", "May 01 2025"},
		{"yyyy-MM-dd", "2024-13-01"},
		{"yyyy-MM-dd HH:mm", "2024-02-30 10:00"},
		{"h:mm a yyyy-MM-dd", "13:00 PM 2024-01-01"},
		{"'at' HH:mm", "on 10:00"},
		{"Q yyyy", "1 2024"},
		{"yyyy-MM-dd z", "2024-01-01 ABC"},
	} {
		if got, ok := JavaStamp(tt.layout, tt.in, ref, nil); ok {
			t.Errorf("JavaStamp(%q, %q) = %v, want failure", tt.layout, tt.in, got)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for _, tt := range []struct{ in, time, host string }{
		{"<131>Sep 19 13:53:34 bigip-4.example ASM:", "2024-09-19T13:53:34Z", "bigip-4.example"},
		{"Jan  9 10:49:35 Barracuda ", "2025-01-09T10:49:35Z", "Barracuda"},
		{"<13>1 2024-05-06T08:00:00.5Z fw01 app - - - ", "2024-05-06T08:00:00.5Z", "fw01"},
		{"ASM:", "", ""},
		{"CEF:", "", ""},
		{"<12345>Sep 19 13:53:34 h ", "", ""},
	} {
		h := ParsePrefix(tt.in, ref, nil)
		var w time.Time
		if tt.time != "" {
			w, _ = time.Parse(time.RFC3339Nano, tt.time)
		}
		if !h.Time.Equal(w) || h.Host != tt.host {
			t.Errorf("ParsePrefix(%q) = %v %q, want %v %q", tt.in, h.Time, h.Host, w, tt.host)
		}
	}
}
