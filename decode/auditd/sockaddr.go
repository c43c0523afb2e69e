package auditd

import (
	"encoding/hex"
	"net/netip"
	"strconv"
)

// sockaddr reads a SOCKADDR record's saddr, the socket address in hex as
// the kernel holds it (family little-endian, then for inet the port and
// address in network order), into the names log_format=ENRICHED gives:
// saddr_fam, laddr, lport, path.
func sockaddr(s string) (fam, addr, port, path string) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 2 {
		return "", "", "", ""
	}
	switch int(b[0]) | int(b[1])<<8 {
	case 1: // AF_UNIX
		p := b[2:]
		for i, c := range p {
			if c == 0 && i > 0 {
				p = p[:i]
				break
			}
		}
		return "local", "", "", string(p)
	case 2: // AF_INET
		if len(b) < 8 {
			return "inet", "", "", ""
		}
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		return "inet", ip.String(), strconv.Itoa(int(b[2])<<8 | int(b[3])), ""
	case 10: // AF_INET6
		if len(b) < 24 {
			return "inet6", "", "", ""
		}
		ip := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		return "inet6", ip.String(), strconv.Itoa(int(b[2])<<8 | int(b[3])), ""
	}
	return "", "", "", ""
}
