package list

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// torLine reads a line of a Tor exit list: the bulk exit list has one
// address a line; the exit-addresses file has blocks of "ExitNode
// fingerprint", "Published", "LastStatus" and one or more "ExitAddress
// IP date" lines, the date being when the address was last seen exiting.
func (st *state) torLine(line string) {
	data, _ := cutComment(line, "#")
	if data == "" {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			st.header(strings.TrimSpace(t[1:]))
		}
		return
	}
	fields := strings.Fields(data)
	switch fields[0] {
	case "ExitNode":
		st.torNode = ""
		if len(fields) > 1 {
			st.torNode = fields[1]
		}
		return
	case "Published", "LastStatus":
		return
	case "ExitAddress":
		if len(fields) < 2 {
			st.bad("ExitAddress without an address")
			return
		}
		ip, err := intel.Normalize(intel.KindIP, fields[1])
		if err != nil {
			st.bad("ExitAddress: %v", err)
			return
		}
		st.sawData = true
		ind := st.add(intel.KindIP, ip, intel.ThreatTorExit)
		ind.Ref, ind.Threat = st.torNode, orDefault(ind.Threat, "Tor")
		if len(fields) >= 4 {
			if t, err := time.Parse(time.DateTime, fields[2]+" "+fields[3]); err == nil {
				ind.LastSeen = t
			} else {
				st.bad("ExitAddress %s: date %q %q: %v", ip, fields[2], fields[3], err)
			}
		}
		return
	}
	st.sawData = true
	if len(fields) != 1 {
		st.bad("expected one address, got %d fields", len(fields))
		return
	}
	k := intel.KindIP
	if strings.Contains(fields[0], "/") {
		k = intel.KindCIDR
	}
	n, err := intel.Normalize(k, fields[0])
	if err != nil {
		st.bad("%v", err)
		return
	}
	ind := st.add(k, n, intel.ThreatTorExit)
	ind.Threat = orDefault(ind.Threat, "Tor")
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
