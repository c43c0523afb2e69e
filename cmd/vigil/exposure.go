package main

import "net"

// exposedPlain reports whether the server at addr answers beyond this
// machine without TLS: API keys and events then cross the network in
// clear.
func exposedPlain(addr net.Addr, tls bool) bool {
	if tls {
		return false
	}
	ta, ok := addr.(*net.TCPAddr)
	return !ok || !ta.IP.IsLoopback()
}
