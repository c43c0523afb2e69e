package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// target is the deployment under load: where to send events, where to read
// alerts and metrics, and the key that may do both.
type target struct {
	ingest  []string // base URLs, round robin
	api     string
	metrics []string // full /metrics URLs, one a process
	key     string
	stop    func()
}

// startServe starts one `vigil serve` (all roles) on a fresh data directory
// with an admin key of a fresh workspace, and returns it as a target.
func startServe(ctx context.Context, bin, dir string, args []string) (*target, error) {
	data := filepath.Join(dir, "data")
	if out, err := exec.CommandContext(ctx, bin, "workspaces", "create", "load", "--data-dir", data).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vigil workspaces create: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "keys", "create", "--workspace", "load", "--scope", "admin", "--json", "--data-dir", data).Output()
	if err != nil {
		return nil, fmt.Errorf("vigil keys create: %w", err)
	}
	var key struct{ Secret string }
	if err := json.Unmarshal(out, &key); err != nil || key.Secret == "" {
		return nil, fmt.Errorf("vigil keys create: no secret in %q: %v", out, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data-dir", data, "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("vigil serve: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	base := "http://" + addr
	if err := waitReady(ctx, base, exited); err != nil {
		stop()
		return nil, err
	}
	return &target{ingest: []string{base}, api: base, metrics: []string{base + "/metrics"}, key: key.Secret, stop: stop}, nil
}

func waitReady(ctx context.Context, base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("vigil serve exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("vigil serve at %s not ready after 90s", base)
}
