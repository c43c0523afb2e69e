// Command bruteforce compares vigil's SSH brute-force detection with
// CrowdSec and fail2ban on the same sshd log, in one run: which source
// addresses each flags, and how many log lines a second each gets through.
//
//	cd bench/bruteforce && go run . [-lines 200000] [-tools vigil,fail2ban,crowdsec]
//
// The peers come from Debian's packages (see ../shared/PEERS.md) and run
// offline on files: fail2ban-regex only matches lines (no jail, no
// firewall); CrowdSec replays the file against a private Local API on a
// loopback port with its own SQLite database in a temporary folder. Neither
// is started as a service. See docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type options struct {
	log, vigil, tools, keep string
	lines                   int
	maxretry                int
	findtime                time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.log, "log", filepath.Join("..", "..", "..", "shared", "data", "ssh_auth", "loghub_openssh", "OpenSSH_2k.log"), "sshd log (syslog lines)")
	flag.IntVar(&o.lines, "lines", 200_000, "lines of the speed corpus: the log repeated up to this many lines (0: the log as it is)")
	flag.StringVar(&o.vigil, "vigil", "", "vigil binary (default: built from ../.. into a temporary folder)")
	flag.StringVar(&o.tools, "tools", "vigil,fail2ban,crowdsec", "tools to run, comma-separated")
	flag.IntVar(&o.maxretry, "maxretry", 5, "fail2ban jail maxretry applied to fail2ban-regex's matches (Debian's default)")
	flag.DurationVar(&o.findtime, "findtime", 10*time.Minute, "fail2ban jail findtime (Debian's default)")
	flag.StringVar(&o.keep, "workdir", "", "keep the corpus, CrowdSec's config and outputs in this folder (default: a temporary one, removed)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bruteforce:", err)
		os.Exit(1)
	}
}

// result is one tool's run: the addresses it flags on the log, and its
// speed on the speed corpus.
type result struct {
	tool    string
	flagged map[string][]string // address -> why (rule or scenario names)
	lines   int
	wall    time.Duration
	cpu     time.Duration
	note    string
}

func run(o options) error {
	work := o.keep
	if work == "" {
		d, err := os.MkdirTemp("", "vigil-bruteforce-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	work, _ = filepath.Abs(work)
	logPath, err := filepath.Abs(o.log)
	if err != nil {
		return err
	}
	if _, err := os.Stat(logPath); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	corpus, n, err := replicate(logPath, filepath.Join(work, "speed.log"), o.lines)
	if err != nil {
		return fmt.Errorf("speed corpus: %w", err)
	}
	fmt.Printf("log %s; speed corpus %d lines\n\n", o.log, n)
	var results []result
	for _, tool := range strings.Split(o.tools, ",") {
		var r result
		var err error
		switch strings.TrimSpace(tool) {
		case "vigil":
			r, err = runVigil(o, work, logPath, corpus)
		case "fail2ban":
			r, err = runFail2ban(o, logPath, corpus)
		case "crowdsec":
			r, err = runCrowdSec(work, logPath, corpus)
		default:
			err = fmt.Errorf("unknown tool %q (want vigil, fail2ban, crowdsec)", tool)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tool, err)
		}
		r.lines = n
		results = append(results, r)
		// As each tool finishes: a slow peer need not hide the others.
		fmt.Printf("%s: flags %d addresses; %d lines in %v wall, %v CPU\n", r.tool, len(r.flagged), n,
			r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond))
	}
	report(os.Stdout, results)
	return nil
}

// replicate writes the log again and again until it has want lines (the
// time stamps repeat: this corpus measures speed, not detection).
func replicate(src, dst string, want int) (string, int, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", 0, err
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	per := bytes.Count(data, []byte("\n"))
	if want <= 0 || per == 0 {
		return src, per, nil
	}
	f, err := os.Create(dst)
	if err != nil {
		return "", 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := 0
	for n+per <= want {
		w.Write(data)
		n += per
	}
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if n >= want {
			break
		}
		w.Write(l)
		n++
	}
	if err := w.Flush(); err != nil {
		return "", 0, err
	}
	return dst, n, f.Close()
}

// timed runs a command and returns its output, wall and CPU (user+system)
// time.
func timed(cmd *exec.Cmd) ([]byte, time.Duration, time.Duration, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return nil, wall, cpu, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(errb.String()))
	}
	return out.Bytes(), wall, cpu, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

func runVigil(o options, work, logPath, corpus string) (result, error) {
	r := result{tool: "vigil", flagged: map[string][]string{}}
	bin := o.vigil
	if bin == "" {
		bin = filepath.Join(work, "vigil")
		build := exec.Command("go", "build", "-o", bin, "./cmd/vigil")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			return r, fmt.Errorf("go build: %w\n%s", err, out)
		}
	}
	out, _, _, err := timed(exec.Command(bin, "scan", "-o", "json", "--progress=false", "--format", "sshd", logPath))
	if err != nil {
		return r, err
	}
	var alerts []struct {
		Rule       struct{ Title string }
		Techniques []string
		Entities   []struct{ Type, Value string }
	}
	if err := json.Unmarshal(out, &alerts); err != nil {
		return r, fmt.Errorf("scan output: %w", err)
	}
	for _, a := range alerts {
		if !slices.ContainsFunc(a.Techniques, func(t string) bool { return strings.HasPrefix(t, "T1110") }) {
			continue // brute force (T1110) only: the peers flag nothing else here
		}
		for _, e := range a.Entities {
			if e.Type == "ip" && !slices.Contains(r.flagged[e.Value], a.Rule.Title) {
				r.flagged[e.Value] = append(r.flagged[e.Value], a.Rule.Title)
			}
		}
	}
	_, r.wall, r.cpu, err = timed(exec.Command(bin, "scan", "-o", "ndjson", "--progress=false", "--format", "sshd", corpus))
	return r, err
}

// runFail2ban matches the lines with fail2ban's stock sshd filter and bans
// as the sshd jail would: maxretry matches of one address within findtime.
func runFail2ban(o options, logPath, corpus string) (result, error) {
	r := result{tool: "fail2ban", flagged: map[string][]string{},
		note: fmt.Sprintf("fail2ban-regex, filter sshd; a ban is %d matches within %v (the jail's maxretry, findtime)", o.maxretry, o.findtime)}
	out, _, _, err := timed(exec.Command("fail2ban-regex", "-o", "row", logPath, "sshd"))
	if err != nil {
		return r, err
	}
	// Rows: ['ip',\tunix-time,\t{…}],
	times := map[string][]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "['") {
			continue
		}
		parts := strings.SplitN(line[2:], "',\t", 2)
		if len(parts) != 2 {
			continue
		}
		ts, _, _ := strings.Cut(parts[1], ",")
		t, err := strconv.ParseFloat(strings.TrimSpace(ts), 64)
		if err != nil {
			continue
		}
		times[parts[0]] = append(times[parts[0]], t)
	}
	win := o.findtime.Seconds()
	for ip, ts := range times {
		sort.Float64s(ts)
		for i := range ts {
			j := sort.SearchFloat64s(ts, ts[i]+win+1e-9)
			if j-i >= o.maxretry {
				r.flagged[ip] = []string{"sshd jail"}
				break
			}
		}
	}
	_, r.wall, r.cpu, err = timed(exec.Command("fail2ban-regex", "-o", "row", corpus, "sshd"))
	return r, err
}

// runCrowdSec replays the files against a private Local API: its own
// config, SQLite database and loopback port in the work folder.
func runCrowdSec(work, logPath, corpus string) (result, error) {
	r := result{tool: "crowdsec", flagged: map[string][]string{},
		note: "crowdsec -dsn file://… -type syslog -no-api against a private Local API; stock hub (sshd parsers, ssh-bf and ssh-slow-bf)"}
	dir := filepath.Join(work, "crowdsec")
	cfg, err := crowdsecConfig(dir)
	if err != nil {
		return r, err
	}
	add := exec.Command("cscli", "-c", cfg, "machines", "add", "-f", filepath.Join(dir, "creds.yaml"), "--auto")
	if out, err := add.CombinedOutput(); err != nil {
		return r, fmt.Errorf("cscli machines add: %w\n%s", err, out)
	}
	if err := rewriteURL(filepath.Join(dir, "creds.yaml")); err != nil {
		return r, err
	}
	lapi := exec.Command("crowdsec", "-c", cfg, "-no-cs")
	lapi.Stdout, lapi.Stderr = io.Discard, io.Discard
	if err := lapi.Start(); err != nil {
		return r, fmt.Errorf("local API: %w", err)
	}
	defer func() {
		lapi.Process.Kill()
		lapi.Wait()
	}()
	time.Sleep(4 * time.Second) // the Local API opens its database and port
	if _, _, _, err := timed(exec.Command("crowdsec", "-c", cfg, "-dsn", "file://"+logPath, "-type", "syslog", "-no-api")); err != nil {
		return r, err
	}
	out, _, _, err := timed(exec.Command("cscli", "-c", cfg, "alerts", "list", "-o", "json", "-l", "0"))
	if err != nil {
		return r, err
	}
	var alerts []struct {
		Scenario string
		Source   struct{ IP string }
	}
	if err := json.Unmarshal(out, &alerts); err != nil {
		return r, fmt.Errorf("cscli alerts: %w", err)
	}
	for _, a := range alerts {
		if a.Source.IP != "" && !slices.Contains(r.flagged[a.Source.IP], a.Scenario) {
			r.flagged[a.Source.IP] = append(r.flagged[a.Source.IP], a.Scenario)
		}
	}
	_, r.wall, r.cpu, err = timed(exec.Command("crowdsec", "-c", cfg, "-dsn", "file://"+corpus, "-type", "syslog", "-no-api"))
	return r, err
}

// crowdsecConfig writes a copy of the package's config.yaml that keeps
// everything in dir: database, logs, credentials, acquisition, and a Local
// API on a loopback port; no Central API, no metrics port.
func crowdsecConfig(dir string) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile("/etc/crowdsec/config.yaml")
	if err != nil {
		return "", fmt.Errorf("CrowdSec is not installed (see ../shared/PEERS.md): %w", err)
	}
	s := string(b)
	for _, kv := range [][2]string{
		{"daemonize: true", "daemonize: false"},
		{"log_dir: /var/log/", "log_dir: " + dir + "/"},
		{"db_path: /var/lib/crowdsec/data/crowdsec.db", "db_path: " + dir + "/data/crowdsec.db"},
		{"credentials_path: /etc/crowdsec/local_api_credentials.yaml", "credentials_path: " + dir + "/creds.yaml"},
		{"listen_uri: 127.0.0.1:8080", "listen_uri: 127.0.0.1:18089"},
		{"    online_client: # Central API credentials (to push signals and receive bad IPs)\n      credentials_path: /etc/crowdsec/online_api_credentials.yaml\n", ""},
		{"prometheus:\n  enabled: true", "prometheus:\n  enabled: false"},
		{"acquisition_path: /etc/crowdsec/acquis.yaml", "acquisition_path: " + dir + "/acquis.yaml"},
	} {
		if !strings.Contains(s, kv[0]) {
			return "", fmt.Errorf("/etc/crowdsec/config.yaml has no %q to change: another CrowdSec version?", kv[0])
		}
		s = strings.Replace(s, kv[0], kv[1], 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "acquis.yaml"), []byte("filenames: [/nonexistent.log]\nlabels: {type: syslog}\n"), 0o644); err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "config.yaml")
	return cfg, os.WriteFile(cfg, []byte(s), 0o644)
}

func rewriteURL(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "url:") {
			l = "url: http://127.0.0.1:18089"
		}
		lines = append(lines, l)
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
}

func report(w io.Writer, rs []result) {
	fmt.Fprintf(w, "%-9s %8s %9s %11s %9s %11s\n", "tool", "flagged", "wall", "lines/s", "cpu", "lines/cpu-s")
	var vigil *result
	for i := range rs {
		r := &rs[i]
		if r.tool == "vigil" {
			vigil = r
		}
		fmt.Fprintf(w, "%-9s %8d %9s %11.0f %9s %11.0f\n", r.tool, len(r.flagged), r.wall.Round(time.Millisecond),
			float64(r.lines)/r.wall.Seconds(), r.cpu.Round(time.Millisecond), float64(r.lines)/max(r.cpu.Seconds(), 1e-3))
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		if r.note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.tool, r.note)
		}
	}
	if vigil == nil {
		return
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		if r.tool == "vigil" {
			continue
		}
		var missed, more []string
		for ip := range r.flagged {
			if _, ok := vigil.flagged[ip]; !ok {
				missed = append(missed, ip)
			}
		}
		for ip := range vigil.flagged {
			if _, ok := r.flagged[ip]; !ok {
				more = append(more, ip)
			}
		}
		sort.Strings(missed)
		sort.Strings(more)
		fmt.Fprintf(w, "vigil vs %s: speed ×%.1f (wall), ×%.1f (cpu); %s flags %d, vigil misses %d %v; vigil flags %d more %v\n",
			r.tool, r.wall.Seconds()/vigil.wall.Seconds(), r.cpu.Seconds()/max(vigil.cpu.Seconds(), 1e-3),
			r.tool, len(r.flagged), len(missed), missed, len(more), more)
	}
	fmt.Fprintln(w)
	ips := map[string]bool{}
	for _, r := range rs {
		for ip := range r.flagged {
			ips[ip] = true
		}
	}
	var all []string
	for ip := range ips {
		all = append(all, ip)
	}
	sort.Strings(all)
	for _, ip := range all {
		fmt.Fprintf(w, "%-16s", ip)
		for _, r := range rs {
			why := strings.Join(r.flagged[ip], ", ")
			if why == "" {
				why = "-"
			}
			fmt.Fprintf(w, "  %s: %s;", r.tool, why)
		}
		fmt.Fprintln(w)
	}
}
