package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/enrich/geoip"
)

// asnNetwork is one network of a test ASN database.
type asnNetwork struct {
	prefix netip.Prefix
	number uint32
	org    string
}

// writeASNDatabase writes a MaxMind DB file (format 2.0, IPv6 tree with
// IPv4 under ::/96, 24-bit records) of GeoLite2-ASN's layout holding nets,
// so that an end-to-end test can give addresses the autonomous system of
// a cloud provider: the public test databases hold no such network, and no
// real database may be shipped with the tests. Prefixes must not overlap.
func writeASNDatabase(t *testing.T, path string, nets []asnNetwork) {
	t.Helper()
	var data bytes.Buffer
	offsets := make([]uint32, len(nets))
	for i, n := range nets {
		offsets[i] = uint32(data.Len())
		mmdbMapHeader(&data, 2)
		mmdbString(&data, "autonomous_system_number")
		mmdbUint(&data, 6, uint64(n.number))
		mmdbString(&data, "autonomous_system_organization")
		mmdbString(&data, n.org)
	}
	// The search tree: a node is two records, each another node's index,
	// "empty" (the node count) or a data pointer (node count + 16 + the
	// record's offset in the data section).
	const empty, leaf = -1, -2
	type node struct{ child [2]int }
	nodes := []node{{[2]int{empty, empty}}}
	for i, n := range nets {
		var key [16]byte
		bits := n.prefix.Bits()
		if a := n.prefix.Addr(); a.Is4() {
			a4 := a.As4()
			copy(key[12:], a4[:])
			bits += 96
		} else {
			key = a.As16()
		}
		cur := 0
		for b := 0; b < bits; b++ {
			bit := key[b/8] >> (7 - b%8) & 1
			if b == bits-1 {
				nodes[cur].child[bit] = leaf - i
				break
			}
			next := nodes[cur].child[bit]
			if next < 0 {
				nodes = append(nodes, node{[2]int{empty, empty}})
				next = len(nodes) - 1
				nodes[cur].child[bit] = next
			}
			cur = next
		}
	}
	count := uint32(len(nodes))
	var out bytes.Buffer
	for _, n := range nodes {
		for _, c := range n.child {
			var r uint32
			switch {
			case c == empty:
				r = count
			case c <= leaf:
				r = count + 16 + offsets[leaf-c]
			default:
				r = uint32(c)
			}
			out.Write([]byte{byte(r >> 16), byte(r >> 8), byte(r)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.WriteString("\xab\xcd\xefMaxMind.com")
	mmdbMapHeader(&out, 9)
	mmdbString(&out, "node_count")
	mmdbUint(&out, 6, uint64(count))
	mmdbString(&out, "record_size")
	mmdbUint(&out, 5, 24)
	mmdbString(&out, "ip_version")
	mmdbUint(&out, 5, 6)
	mmdbString(&out, "database_type")
	mmdbString(&out, "GeoLite2-ASN")
	mmdbString(&out, "languages")
	out.Write([]byte{1, 11 - 7}) // an array (extended type 11) of one
	mmdbString(&out, "en")
	mmdbString(&out, "binary_format_major_version")
	mmdbUint(&out, 5, 2)
	mmdbString(&out, "binary_format_minor_version")
	mmdbUint(&out, 5, 0)
	mmdbString(&out, "build_epoch")
	mmdbUint(&out, 9, 1764979200)
	mmdbString(&out, "description")
	mmdbMapHeader(&out, 1)
	mmdbString(&out, "en")
	mmdbString(&out, "vigil test ASN database")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mmdbControl writes a field's control byte(s): the type (extended types,
// 8 and up, in a second byte) and the size (29 and up in further bytes).
func mmdbControl(b *bytes.Buffer, typ, size int) {
	var ext []byte
	sz := size
	switch {
	case size >= 285:
		panic("mmdb test writer: field too large")
	case size >= 29:
		sz, ext = 29, []byte{byte(size - 29)}
	}
	if typ >= 8 {
		b.Write([]byte{byte(sz), byte(typ - 7)})
	} else {
		b.WriteByte(byte(typ<<5 | sz))
	}
	b.Write(ext)
}

func mmdbMapHeader(b *bytes.Buffer, pairs int) { mmdbControl(b, 7, pairs) }

func mmdbString(b *bytes.Buffer, s string) {
	mmdbControl(b, 2, len(s))
	b.WriteString(s)
}

// mmdbUint writes v as an unsigned integer of type typ (5 uint16, 6
// uint32, 9 uint64) in the fewest big-endian bytes.
func mmdbUint(b *bytes.Buffer, typ int, v uint64) {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], v)
	n := 8
	for n > 0 && be[8-n] == 0 {
		n--
	}
	mmdbControl(b, typ, n)
	b.Write(be[8-n:])
}

// TestWriteASNDatabase reads the test writer's file back with the GeoIP
// enricher's own reader: addresses in its networks get their AS, others
// none.
func TestWriteASNDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	writeASNDatabase(t, path, []asnNetwork{
		{netip.MustParsePrefix("20.50.2.0/24"), 64498, "Microsoft Corporation"},
		{netip.MustParsePrefix("2001:db8:1::/48"), 64499, "An organisation whose name is longer than twenty-nine bytes"},
	})
	db, err := geoip.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr  string
		found bool
		asn   uint32
		org   string
	}{
		{"20.50.2.1", true, 64498, "Microsoft Corporation"},
		{"20.50.2.255", true, 64498, "Microsoft Corporation"},
		{"20.50.3.1", false, 0, ""},
		{"2001:db8:1:ff::1", true, 64499, "An organisation whose name is longer than twenty-nine bytes"},
		{"2001:db8:2::1", false, 0, ""},
	} {
		rec, found, err := db.Lookup(netip.MustParseAddr(c.addr))
		if err != nil || found != c.found || rec.ASN != c.asn || rec.ASOrg != c.org {
			t.Errorf("%s: %+v found %v err %v, want AS %d %q found %v", c.addr, rec, found, err, c.asn, c.org, c.found)
		}
	}
}
