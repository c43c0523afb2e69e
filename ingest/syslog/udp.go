package syslog

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/vigil-sec/vigil/ingest"
)

// serveUDP reads one message a datagram. The kernel drops datagrams when
// the socket buffer is full (we are slower than the senders); that cannot
// be prevented, only counted, from the drop counter the kernel attaches to
// each datagram.
func (r *Receiver) serveUDP(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.pc.Close() })
	defer stop()
	defer r.pc.Close()
	pubCtx, cancel := ingest.Draining(ctx)
	defer cancel()
	buf := make([]byte, 64<<10)
	oob := make([]byte, oobSize)
	for {
		n, oobn, _, _, err := r.pc.ReadMsgUDP(buf, oob)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("syslog receiver %s: read: %w", r.cfg.Name, err)
		}
		if d := r.drops.update(oob[:oobn]); d > 0 {
			r.m.Dropped(float64(d))
			r.log.Warn("UDP datagrams dropped by the kernel (receive buffer full)", "dropped", d)
		}
		msg := trimEOL(buf[:n])
		for len(msg) > 0 && msg[len(msg)-1] == 0 {
			msg = msg[:len(msg)-1]
		}
		if len(msg) == 0 {
			continue
		}
		if err := r.b.Add(pubCtx, msg, 0); err != nil && !isRecordError(err) {
			return nil // only a shutdown stops a publish; the record was counted as dropped
		}
	}
}
