package list

import (
	"encoding/json"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// fireholCategory maps a FireHOL ipset's "Category" to a threat type.
var fireholCategory = map[string]string{
	"malware":     intel.ThreatMalware,
	"anonymizers": intel.ThreatAnonymizer,
	"attacks":     intel.ThreatScanner,
	"abuse":       intel.ThreatUnknown,
	"spam":        intel.ThreatSpam,
	"reputation":  intel.ThreatUnknown,
}

// header reads a FireHOL header comment ("# Key : value") before the data.
func (st *state) header(comment string) {
	if st.sawData {
		return
	}
	key, value, ok := strings.Cut(comment, ":")
	if !ok {
		return
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	switch strings.ToLower(key) {
	case "category":
		st.category = fireholCategory[strings.ToLower(value)]
	case "this file date", "source file date":
		// FireHOL writes dates as date(1) does: "Sat Nov  7 22:45:02 UTC 2015".
		if t, err := time.Parse("Mon Jan _2 15:04:05 MST 2006", value); err == nil && t.After(st.listDate) {
			st.listDate = t.UTC()
		}
	}
}

// ipLine reads a line of an address list.
func (st *state) ipLine(line string) {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "{") {
		st.dropJSON(trimmed)
		return
	}
	if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
		st.header(strings.TrimSpace(trimmed[1:]))
		return
	}
	data, comment := cutComment(line, "#;")
	if data == "" {
		return
	}
	fields := strings.Fields(data)
	if !st.sawData && strings.EqualFold(fields[0], "start") {
		return // DShield block.txt's column header
	}
	st.sawData = true
	ref := ""
	if i := strings.IndexAny(line, "#;"); i >= 0 && line[i] == ';' {
		if f := strings.Fields(comment); len(f) > 0 {
			ref = f[0] // "1.2.3.0/24 ; SBL123"
		}
	}
	st.ipValue(fields, ref, st.category)
}

// ipValue reads an address, a prefix, "a-b" or "a b …" (a range in the
// first two columns) and adds its indicators.
func (st *state) ipValue(fields []string, ref, threat string) {
	v := fields[0]
	if lo, hi, ok := strings.Cut(v, "-"); ok {
		st.ipRange(lo, hi, ref, threat)
		return
	}
	if len(fields) > 1 {
		if _, err := netip.ParseAddr(fields[1]); err == nil && !strings.Contains(v, "/") {
			st.ipRange(v, fields[1], ref, threat)
			return
		}
	}
	k := intel.KindIP
	if strings.Contains(v, "/") {
		k = intel.KindCIDR
	}
	n, err := intel.Normalize(k, v)
	if err != nil {
		st.bad("not an IP address, CIDR prefix or range: %v", err)
		return
	}
	st.add(k, n, threat).Ref = ref
}

func (st *state) ipRange(lo, hi, ref, threat string) {
	a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
	b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a.Zone() != "" || b.Zone() != "" {
		st.bad("range %s-%s: not two IP addresses", lo, hi)
		return
	}
	a, b = a.Unmap(), b.Unmap()
	if a.Is4() != b.Is4() {
		st.bad("range %s-%s: mixes IPv4 and IPv6", lo, hi)
		return
	}
	if b.Less(a) {
		st.bad("range %s-%s: ends before it starts", lo, hi)
		return
	}
	for _, p := range rangePrefixes(a, b) {
		k, v := intel.KindCIDR, p.String()
		if p.IsSingleIP() {
			k, v = intel.KindIP, p.Addr().String()
		}
		st.add(k, v, threat).Ref = ref
	}
}

// rangePrefixes covers a..b with the fewest prefixes: from a, the largest
// aligned prefix that does not pass b, and so on.
func rangePrefixes(a, b netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		bits := a.BitLen()
		for bits > 0 {
			p := netip.PrefixFrom(a, bits-1)
			if p.Masked().Addr() != a || b.Less(lastOf(p)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(a, bits)
		out = append(out, p)
		last := lastOf(p)
		if last == b || !last.Next().IsValid() {
			return out
		}
		a = last.Next()
	}
}

// lastOf is the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	host := p.Addr().BitLen() - p.Bits()
	for i := 15; i >= 0 && host > 0; i-- {
		if host >= 8 {
			b[i] = 0xff
			host -= 8
		} else {
			b[i] |= byte(1<<host - 1)
			host = 0
		}
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		return a.Unmap()
	}
	return a
}

// dropJSON reads a line of Spamhaus DROP's JSON form: an entry
// {"cidr": "1.10.16.0/20", "sblid": "SBL256894", …} or the closing
// {"type": "metadata", …}.
func (st *state) dropJSON(line string) {
	var e struct {
		CIDR  string `json:"cidr"`
		SBLID string `json:"sblid"`
		Type  string `json:"type"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		st.bad("JSON line: %v", err)
		return
	}
	if e.CIDR == "" {
		if e.Type == "" {
			st.bad("JSON line without \"cidr\"")
		}
		return
	}
	st.sawData = true
	n, err := intel.Normalize(intel.KindCIDR, e.CIDR)
	if err != nil {
		st.bad("%v", err)
		return
	}
	st.add(intel.KindCIDR, n, intel.ThreatSpam).Ref = e.SBLID
}
