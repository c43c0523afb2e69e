package respond

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type command struct {
	argv []string
}

func newCommand(pb *Playbook) (runner, *fieldError) {
	if len(pb.Command) == 0 || pb.Command[0] == "" {
		return nil, &fieldError{"command", "the program and its arguments, as a list (no shell)"}
	}
	if !filepath.IsAbs(pb.Command[0]) {
		// A program found through PATH at run time could be anything
		// the service's PATH leads to.
		return nil, &fieldError{"command", fmt.Sprintf("%q: give the program's absolute path", pb.Command[0])}
	}
	return &command{argv: append([]string(nil), pb.Command...)}, nil
}

// cappedBuffer keeps the first bytes written to it: a failure message
// quotes the start of the program's output.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *command) attempt(ctx context.Context, p *Payload) error {
	in, err := marshal(p)
	if err != nil {
		return permanent{fmt.Errorf("encode payload: %w", err)}
	}
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdin = bytes.NewReader(in)
	out := &cappedBuffer{max: maxAnswer}
	cmd.Stdout, cmd.Stderr = out, out
	// A child that keeps the output open after the program was killed
	// does not hold the run.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(out.String())
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after its timeout: %w", ctx.Err())
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return permanent{fmt.Errorf("%s: %w", c.argv[0], err)}
	}
	if msg != "" {
		return fmt.Errorf("%s: %w: %s", c.argv[0], err, msg)
	}
	return fmt.Errorf("%s: %w", c.argv[0], err)
}
