package bus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// serverLogger adapts the embedded NATS server's printf-style logger to
// slog. Its notices (the banner and settings it prints at every start) are
// DEBUG: vigil says "bus open" itself. Warnings and errors keep their level.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) emit(level slog.Level, format string, v []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "subsystem", "nats-server")
}

func (l serverLogger) Noticef(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }
func (l serverLogger) Warnf(format string, v ...any)   { l.emit(slog.LevelWarn, format, v) }
func (l serverLogger) Errorf(format string, v ...any)  { l.emit(slog.LevelError, format, v) }
func (l serverLogger) Debugf(format string, v ...any)  { l.emit(slog.LevelDebug, format, v) }
func (l serverLogger) Tracef(format string, v ...any)  { l.emit(slog.LevelDebug-4, format, v) }

// Fatalf: the server calls it when it cannot go on; it expects not to return.
func (l serverLogger) Fatalf(format string, v ...any) {
	l.emit(slog.LevelError, format, v)
	os.Exit(1)
}
