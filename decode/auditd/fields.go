package auditd

import (
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

var (
	fieldType             = []byte("type")
	fieldNode             = []byte("node")
	fieldSerial           = []byte("serial")
	fieldSyscall          = []byte("SYSCALL")
	fieldImage            = []byte("Image")
	fieldCommandLine      = []byte("CommandLine")
	fieldCurrentDirectory = []byte("CurrentDirectory")
	fieldUser             = []byte("User")
	fieldProcessID        = []byte("ProcessId")
	fieldParentProcessID  = []byte("ParentProcessId")
	fieldSaddrFam         = []byte("saddr_fam")
	fieldLaddr            = []byte("laddr")
	fieldLport            = []byte("lport")
	fieldPath             = []byte("path")
)

// fill sets the event from its records.
func (d *Decoder) fill(ev *event.Event) {
	ev.Logsource = event.Logsource{Product: "linux", Service: "auditd"}
	c := &ev.Common
	f := &ev.Fields
	var sys, execve *line
	var cwd, peer, peerPort string
	for i := range d.lines {
		l := &d.lines[i]
		f.SetName(fieldType, l.typ)
		if l.node != "" && i == 0 {
			f.SetName(fieldNode, l.node)
			c[event.HostName] = l.node
		}
		for _, p := range l.pairs {
			f.SetName(view.Bytes(p.key), p.val)
		}
		for _, p := range l.enriched {
			f.SetName(view.Bytes(p.key), p.val)
		}
		switch l.typ {
		case "SYSCALL", "AUOMS_SYSCALL", "AUOMS_EXECVE":
			sys = l
		case "EXECVE":
			execve = l
		case "CWD":
			cwd = get(l.pairs, "cwd")
		case "SOCKADDR":
			if get(l.enriched, "saddr_fam") == "" {
				fam, addr, port, path := sockaddr(get(l.pairs, "saddr"))
				for _, kv := range [...]struct {
					k []byte
					v string
				}{{fieldSaddrFam, fam}, {fieldLaddr, addr}, {fieldLport, port}, {fieldPath, path}} {
					if kv.v != "" {
						f.SetName(kv.k, kv.v)
					}
				}
				peer, peerPort = addr, port
			} else {
				peer, peerPort = get(l.enriched, "laddr"), get(l.enriched, "lport")
			}
		}
	}
	first := &d.lines[0]
	f.SetName(fieldSerial, first.serial)
	c[event.EventCode] = first.typ
	if first.node == "" {
		if n := get(first.pairs, "node"); n != "" { // AUOMS writes node= among the pairs
			c[event.HostName] = n
		}
	}
	user := ""
	if sys != nil {
		name := get(sys.enriched, "SYSCALL")
		no := get(sys.pairs, "syscall")
		if name == "" {
			if isNumber(no) {
				name = syscallName(get(sys.pairs, "arch"), no)
			} else {
				name = no // AUOMS: the name already
			}
			if name != "" {
				f.SetName(fieldSyscall, name)
			}
		}
		c[event.EventAction] = name
		// The socket address of connect is where the process went; of
		// accept, who came.
		switch name {
		case "connect", "sendto", "sendmsg":
			c[event.DestinationIP], c[event.DestinationPort] = peer, peerPort
		case "accept", "accept4", "recvfrom", "recvmsg":
			c[event.SourceIP], c[event.SourcePort] = peer, peerPort
		}
		c[event.ProcessPID] = get(sys.pairs, "pid")
		c[event.ProcessName] = get(sys.pairs, "comm")
		c[event.ProcessExecutable] = get(sys.pairs, "exe")
		switch get(sys.pairs, "success") {
		case "yes":
			c[event.EventOutcome] = "success"
		case "no":
			c[event.EventOutcome] = "failure"
		}
		user = get(sys.enriched, "UID")
		if user == "" {
			user = get(sys.pairs, "user") // AUOMS
		}
		if cwd == "" {
			cwd = get(sys.pairs, "cwd") // AUOMS
		}
	} else {
		// A user-space record: PAM, logins, account changes.
		if op := get(first.pairs, "op"); op != "" {
			c[event.EventAction] = op
		}
		switch get(first.pairs, "res") {
		case "success", "yes":
			c[event.EventOutcome] = "success"
		case "failed", "no":
			c[event.EventOutcome] = "failure"
		}
		if a := get(first.pairs, "addr"); isIP(a) {
			c[event.SourceIP] = a
		}
		c[event.ProcessPID] = get(first.pairs, "pid")
		c[event.ProcessExecutable] = get(first.pairs, "exe")
	}
	if a := get(first.pairs, "acct"); a != "" {
		user = a
	}
	c[event.UserName] = user
	// Process creation: an execve's EXECVE record, or AUOMS's summary.
	if execve == nil && (sys == nil || sys.typ != "AUOMS_EXECVE") {
		return
	}
	ev.Logsource.Category = "process_creation"
	cmd := ""
	if execve != nil {
		cmd = d.commandLine(execve.pairs)
	} else {
		cmd = get(sys.pairs, "cmdline")
	}
	c[event.ProcessCommandLine] = cmd
	f.SetName(fieldCommandLine, cmd)
	if sys != nil {
		exe := get(sys.pairs, "exe")
		f.SetName(fieldImage, exe)
		f.SetName(fieldProcessID, get(sys.pairs, "pid"))
		f.SetName(fieldParentProcessID, get(sys.pairs, "ppid"))
	}
	if cwd != "" {
		f.SetName(fieldCurrentDirectory, cwd)
	}
	if user != "" {
		f.SetName(fieldUser, user)
	}
}

// commandLine joins EXECVE's arguments a0 … a(argc-1); a long argument
// comes in pieces a2[0], a2[1] … (after a2_len) that are one argument.
func (d *Decoder) commandLine(pairs []pair) string {
	d.sb.Reset()
	n := 0
	for _, p := range pairs {
		if !isArg(p.key) {
			continue
		}
		piece := strings.IndexByte(p.key, '[') > 0
		if n > 0 && !(piece && !strings.HasSuffix(p.key, "[0]")) {
			d.sb.WriteByte(' ')
		}
		d.sb.WriteString(p.val)
		n++
	}
	return d.sb.String()
}

// get returns the value of key among pairs, "" when absent.
func get(pairs []pair, key string) string {
	for _, p := range pairs {
		if p.key == key {
			return p.val
		}
	}
	return ""
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
