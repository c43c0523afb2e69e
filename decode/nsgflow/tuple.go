package nsgflow

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Field slots of a tuple's event, named as Microsoft's documentation names
// the tuple's parts.
const (
	fRule = iota
	fMAC
	fACL
	fTuple
	fTimestamp
	fSrc
	fDst
	fSrcPort
	fDstPort
	fProtocol
	fFlow
	fDecision
	fState
	fEncryption
	fPktsS2D
	fBytesS2D
	fPktsD2S
	fBytesD2S
	numFields
)

var fieldNames = [numFields]string{
	fRule: "rule", fMAC: "mac", fACL: "aclID", fTuple: "flowTuple", fTimestamp: "timestamp",
	fSrc: "sourceAddress", fDst: "destinationAddress", fSrcPort: "sourcePort", fDstPort: "destinationPort",
	fProtocol: "protocol", fFlow: "trafficFlow", fDecision: "trafficDecision", fState: "flowState",
	fEncryption: "encryption", fPktsS2D: "packetsSrcToDst", fBytesS2D: "bytesSrcToDst",
	fPktsD2S: "packetsDstToSrc", fBytesD2S: "bytesDstToSrc",
}

// fieldIDs caches the Dict ids of the tuple fields: a tuple sets up to 18
// fields, and looking each name up per event would cost more than parsing
// the tuple.
type fieldIDs struct {
	dict    *event.Dict
	ids     [numFields]int32
	has     [numFields]bool
	scratch []byte
}

func (f *fieldIDs) bind(d *event.Dict) {
	if d == f.dict {
		return
	}
	f.dict = d
	for i, n := range fieldNames {
		f.has[i] = false
		if d != nil {
			f.ids[i], f.has[i] = d.ID(n)
		}
	}
}

func (f *fieldIDs) set(ev *event.Event, i int, v string) {
	if v != "" && f.has[i] {
		ev.Fields.Set(f.ids[i], v)
	}
}

// tupleErr says which part of a tuple is wrong; pos is its byte offset in
// the tuple.
type tupleErr struct {
	pos    int
	reason string
}

// tuple parses one flow tuple into ev. Layouts:
//
//	v1: unix-seconds,src,dst,sport,dport,T|U,I|O,A|D
//	v2: v1,B|C|E,packets s→d,bytes s→d,packets d→s,bytes d→s (counts empty on B)
//	v4: unix-ms,src,dst,sport,dport,protocol number,I|O,B|C|E|D,encryption,packets s→d,bytes s→d,packets d→s,bytes d→s
func (d *Decoder) tuple(ev *event.Event, b []byte) *tupleErr {
	var parts [13]string
	var pos [13]int
	n, start := 0, 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ',' {
			continue
		}
		if n == len(parts) {
			return &tupleErr{i, "more than 13 parts"}
		}
		parts[n], pos[n] = view.String(b[start:i]), start
		n++
		start = i + 1
	}
	vnet := d.doc.C.vnet
	switch {
	case n == 8 && !vnet, n == 13:
	default:
		return &tupleErr{0, "has " + strconv.Itoa(n) + " parts, want 8 or 13 (NSG) or 13 (VNet)"}
	}
	sec, ok := digits(parts[0])
	if !ok {
		return &tupleErr{pos[0], "bad time stamp"}
	}
	if vnet {
		ev.Time = time.UnixMilli(int64(sec)).UTC()
	} else {
		ev.Time = time.Unix(int64(sec), 0).UTC()
	}
	for _, i := range [2]int{1, 2} {
		if _, err := netip.ParseAddr(parts[i]); err != nil {
			return &tupleErr{pos[i], "bad IP address"}
		}
	}
	for _, i := range [2]int{3, 4} {
		if p, ok := digits(parts[i]); parts[i] != "" && (!ok || p > 65535) {
			return &tupleErr{pos[i], "bad port"}
		}
	}
	transport, ok := protocol(parts[5], vnet)
	if !ok {
		return &tupleErr{pos[5], "bad protocol"}
	}
	if parts[6] != "I" && parts[6] != "O" {
		return &tupleErr{pos[6], "bad direction, want I or O"}
	}
	var allow bool
	var state, enc string
	counts := parts[9:13]
	cpos := pos[9:13]
	if vnet {
		state, enc = parts[7], parts[8]
		switch state {
		case "B", "C", "E", "D":
		default:
			return &tupleErr{pos[7], "bad flow state, want B, C, E or D"}
		}
		allow = state != "D"
	} else {
		switch parts[7] {
		case "A", "D":
		default:
			return &tupleErr{pos[7], "bad decision, want A or D"}
		}
		allow = parts[7] == "A"
		if n == 13 {
			state = parts[8]
			if state != "B" && state != "C" && state != "E" {
				return &tupleErr{pos[8], "bad flow state, want B, C or E"}
			}
		}
	}
	if n == 13 {
		for i, c := range counts {
			if _, ok := digits(c); c != "" && !ok {
				return &tupleErr{cpos[i], "bad packet or byte count"}
			}
		}
	} else {
		counts = nil
	}

	f := &d.names
	f.set(ev, fTuple, view.String(b))
	f.set(ev, fTimestamp, parts[0])
	f.set(ev, fSrc, parts[1])
	f.set(ev, fDst, parts[2])
	f.set(ev, fSrcPort, parts[3])
	f.set(ev, fDstPort, parts[4])
	f.set(ev, fProtocol, parts[5])
	f.set(ev, fFlow, parts[6])
	if !vnet {
		f.set(ev, fDecision, parts[7])
	}
	f.set(ev, fState, state)
	f.set(ev, fEncryption, enc)
	for i, c := range counts {
		f.set(ev, fPktsS2D+i, c)
	}

	com := &ev.Common
	com[event.SourceIP], com[event.DestinationIP] = parts[1], parts[2]
	com[event.SourcePort], com[event.DestinationPort] = parts[3], parts[4]
	com[event.NetworkTransport] = transport
	com[event.EventCategory] = "network"
	if allow {
		com[event.EventAction], com[event.EventOutcome] = "allow", "success"
	} else {
		com[event.EventAction], com[event.EventOutcome] = "deny", "failure"
	}
	return nil
}

// protocol maps the tuple's protocol to ECS network.transport: T and U in
// NSG logs, the IANA number in VNet logs.
func protocol(p string, vnet bool) (string, bool) {
	if !vnet {
		switch p {
		case "T":
			return "tcp", true
		case "U":
			return "udp", true
		}
		return "", false
	}
	switch p {
	case "6":
		return "tcp", true
	case "17":
		return "udp", true
	case "1":
		return "icmp", true
	case "58":
		return "ipv6-icmp", true
	}
	if n, ok := digits(p); ok && n <= 255 {
		return p, true
	}
	return "", false
}

// digits parses a non-empty decimal number of at most 18 digits.
func digits(s string) (uint64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}
