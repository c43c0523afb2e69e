//go:build !linux

package syslog

import (
	"errors"
	"net"
)

const oobSize = 0

type dropCounter struct{}

func (*dropCounter) enable(*net.UDPConn) error {
	return errors.New("the socket drop counter is read on Linux only")
}

func (*dropCounter) update([]byte) uint32 { return 0 }
