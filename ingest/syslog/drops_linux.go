package syslog

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// oobSize holds one SO_RXQ_OVFL control message.
var oobSize = unix.CmsgSpace(4)

// dropCounter follows the socket's cumulative drop count (SO_RXQ_OVFL),
// which Linux attaches to each datagram read.
type dropCounter struct {
	last uint32
	on   bool
}

func (d *dropCounter) enable(pc *net.UDPConn) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setsockopt SO_RXQ_OVFL: %w", serr)
	}
	d.on = true
	return nil
}

// update returns the datagrams dropped since the last call.
func (d *dropCounter) update(oob []byte) uint32 {
	if !d.on || len(oob) == 0 {
		return 0
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			total := binary.NativeEndian.Uint32(m.Data)
			delta := total - d.last // wraps correctly
			d.last = total
			return delta
		}
	}
	return 0
}
