package decode

import (
	"sync"

	"github.com/vigil-sec/vigil/event"
)

// MessageDecoder is implemented by decoders of the messages one program
// logs (sshd, sudo, auditd…). A carrier that has read the time, host,
// program and pid itself (a journald record, a syslog line) hands it the
// message alone, so that the program's lines get the same fields whichever
// way they travel. DecodeMessage sets the logsource and what the message
// says; the carrier sets the rest. A message the decoder does not know is
// no error: it sets only the logsource.
type MessageDecoder interface {
	DecodeMessage(program, msg string, ev *event.Event) error
}

var programs sync.Map // program name → format name

// RegisterProgram routes the messages of program (its syslog tag, its
// journald SYSLOG_IDENTIFIER) to format, whose decoder is a MessageDecoder.
// Decoder packages call it from init.
func RegisterProgram(program, format string) { programs.Store(program, format) }

// ProgramFormat returns the format registered for program.
func ProgramFormat(program string) (string, bool) {
	f, ok := programs.Load(program)
	if !ok {
		return "", false
	}
	return f.(string), true
}
