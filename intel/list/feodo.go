package list

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// feodoCols is where each column of Feodo Tracker's CSV is; -1: absent.
type feodoCols struct {
	firstSeen, ip, port, status, lastOnline, malware int
}

// feodoDefault is the current file's order, used when no header line is
// found: first_seen_utc, dst_ip, dst_port, c2_status, last_online, malware.
var feodoDefault = feodoCols{0, 1, 2, 3, 4, 5}

// feodoHeader reads a header line, quoted or not, in the current names
// (first_seen_utc, dst_ip …) or the older ones (Firstseen, DstIP …).
func feodoHeader(fields []string) (*feodoCols, bool) {
	c := feodoCols{-1, -1, -1, -1, -1, -1}
	for i, f := range fields {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "first_seen_utc", "firstseen", "first_seen":
			c.firstSeen = i
		case "dst_ip", "dstip", "ip_address":
			c.ip = i
		case "dst_port", "dstport", "port":
			c.port = i
		case "c2_status", "status":
			c.status = i
		case "last_online", "lastonline":
			c.lastOnline = i
		case "malware":
			c.malware = i
		}
	}
	return &c, c.ip >= 0
}

func splitCSV(line string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	return r.Read()
}

// feodoLine reads a line of Feodo Tracker's CSV: "#" comment banner, a
// header line, then a row a C2 server.
func (st *state) feodoLine(line string) {
	data := strings.TrimSpace(line)
	if data == "" {
		return
	}
	if strings.HasPrefix(data, "#") {
		// The older file had its header as a comment; "# END" closes it.
		if fields, err := splitCSV(strings.TrimSpace(data[1:])); err == nil && st.cols == nil {
			if c, ok := feodoHeader(fields); ok {
				st.cols = c
			}
		}
		return
	}
	fields, err := splitCSV(data)
	if err != nil {
		st.bad("CSV: %v", err)
		return
	}
	if c, ok := feodoHeader(fields); ok {
		st.cols = c
		return
	}
	if st.cols == nil {
		st.cols = &feodoDefault
	}
	c := st.cols
	col := func(i int) string {
		if i < 0 || i >= len(fields) {
			return ""
		}
		return strings.TrimSpace(fields[i])
	}
	if c.ip >= len(fields) {
		st.bad("%d columns, the address is column %d", len(fields), c.ip+1)
		return
	}
	ip, err := intel.Normalize(intel.KindIP, col(c.ip))
	if err != nil {
		st.bad("dst_ip: %v", err)
		return
	}
	st.sawData = true
	ind := st.add(intel.KindIP, ip, intel.ThreatC2)
	if m := col(c.malware); m != "" && st.p.Options.Threat == "" {
		ind.Threat = m
	}
	if v := col(c.firstSeen); v != "" {
		if t, err := parseFeodoTime(v); err == nil {
			ind.FirstSeen = t
		} else {
			st.bad("first_seen_utc %q: not a date and time", v)
		}
	}
	if v := col(c.lastOnline); v != "" {
		if t, err := parseFeodoTime(v); err == nil {
			ind.LastSeen = t
		} else {
			st.bad("last_online %q: not a date", v)
		}
	}
	var desc []string
	if p := col(c.port); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			st.bad("dst_port %q: not a port", p)
		} else {
			desc = append(desc, "port "+p)
		}
	}
	if s := col(c.status); s != "" {
		desc = append(desc, "status "+s)
	}
	if len(desc) > 0 {
		ind.Description = fmt.Sprintf("C2 server, %s", strings.Join(desc, ", "))
	}
}

// parseFeodoTime reads "2021-01-17 07:44:46" (UTC) or "2021-08-18".
func parseFeodoTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateTime, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}
