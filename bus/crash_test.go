package bus

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// crashDirEnv tells the test binary, run again as a child, to act as a
// process that publishes, fetches, acknowledges some batches and is then
// killed without any shutdown.
const crashDirEnv = "VIGIL_BUS_CRASH_DIR"

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper for TestCrashReplay; runs only as its child process")
	}
	ctx := context.Background()
	b, err := Open(ctx, Config{Dir: dir, AckWait: time.Second})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; i < 20; i++ {
		batch := testBatch(t, 10, 300)
		if err := b.Publish(ctx, batch); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("published", batch.ID)
	}
	ds, err := b.Fetch(ctx, 10, time.Second)
	if err != nil || len(ds) != 10 {
		fmt.Println("error fetch", len(ds), err)
		os.Exit(2)
	}
	for _, d := range ds[:5] {
		if err := d.Ack(ctx); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("acked", d.Batch.ID)
	}
	os.Stdout.Sync()
	// A crash: no Close, no deferred functions, no flush.
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
}

// TestCrashReplay checks the guarantee ingest relies on: after a process
// crash, every batch whose publish was acknowledged is still there, every
// batch whose ack was confirmed is gone, and fetched-but-unacknowledged
// batches come again.
func TestCrashReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL (%v):\n%s", err, out.String())
	}
	published := make(map[event.ID]bool)
	acked := make(map[event.ID]bool)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "error":
			t.Fatalf("child: %s", sc.Text())
		case "published", "acked":
			id, err := event.ParseID(f[1])
			if err != nil {
				t.Fatalf("child line %q: %v", sc.Text(), err)
			}
			if f[0] == "published" {
				published[id] = true
			} else {
				acked[id] = true
			}
		}
	}
	if len(published) != 20 || len(acked) != 5 {
		t.Fatalf("child published %d and acked %d, want 20 and 5:\n%s", len(published), len(acked), out.String())
	}

	b := openTest(t, dir, func(c *Config) { c.AckWait = time.Second })
	got := drain(t, b, 15, 3*time.Second, true)
	seen := make(map[event.ID]bool)
	for _, d := range got {
		id := d.Batch.ID
		switch {
		case acked[id]:
			t.Errorf("batch %s was acknowledged before the crash and came again", id)
		case !published[id]:
			t.Errorf("unknown batch %s", id)
		case seen[id]:
			t.Errorf("batch %s delivered twice after the restart", id)
		}
		seen[id] = true
	}
	for id := range published {
		if !acked[id] && !seen[id] {
			t.Errorf("batch %s was stored (publish acknowledged) and is lost after the crash", id)
		}
	}
	if len(got) != 15 {
		t.Fatalf("after the crash: %d batches, want 15", len(got))
	}
}
