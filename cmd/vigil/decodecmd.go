package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

func newDecodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode FILE|DIR...",
		Short: "Print what a source yields: the decoded, normalized events as NDJSON",
		Long: `Decode files (plain or gzip; - reads stdin; a directory is read whole, at
any depth, or the files that --glob matches) the way vigil's pipeline does and
print each event in its JSON form, one a line: logsource, time, the common
ECS fields and the source's own fields. A record that cannot be decoded is
reported on standard error with its file, line and reason, and the others go
on.

` + formatsHelp("first records") + `

` + exitStatusHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: runDecode,
	}
	cmd.Flags().String("format", "", "format of every file, one of those above (default: guessed per file)")
	cmd.Flags().String("glob", "", "in directories, read only the files whose name matches this pattern (e.g. '*.json')")
	cmd.Flags().String("timezone", "", "time zone of time stamps that carry none (e.g. Europe/Paris); UTC by default")
	cmd.Flags().String("layout", "", "access log layout for the accesslog format: combined, vhost_combined, main…, an Apache LogFormat or an nginx log_format string")
	cmd.Flags().Bool("allow-rejected", false, "exit 0, not 2, when some records were refused")
	return cmd
}

func runDecode(cmd *cobra.Command, args []string) error {
	glob, _ := cmd.Flags().GetString("glob")
	files, err := expandInputs(args, glob)
	if err != nil {
		return err
	}
	format, _ := cmd.Flags().GetString("format")
	tz, _ := cmd.Flags().GetString("timezone")
	allowRejected, _ := cmd.Flags().GetBool("allow-rejected")
	layout, _ := cmd.Flags().GetString("layout")
	if format != "" && !decode.Known(format) {
		return fmt.Errorf("--format %q: unknown (known: %s)", format, strings.Join(decode.Formats(), ", "))
	}
	var loc *time.Location
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return fmt.Errorf("--timezone: %w", err)
		}
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<16)
	defer out.Flush()
	var rejected, events int
	now := time.Now().UTC()
	var buf []byte
	emit := func(ev *event.Event) {
		if ev.Time.IsZero() {
			ev.Time = now
		}
		buf = ev.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		out.Write(buf)
		events++
	}
	for _, name := range files {
		br, closeIn, err := openInput(name, nil)
		if err != nil {
			return err
		}
		decoders := map[string]decode.Decoder{}
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		_, err = streamRecords(name, br, format, 1000, cmd.ErrOrStderr(), nil, func(f string, recs []event.Raw) {
			dec, ok := decoders[f]
			if !ok {
				var derr error
				if dec, derr = decode.New(f); derr != nil {
					err = derr
					return
				}
				if c, ok := dec.(decode.Configurable); ok && (loc != nil || layout != "") {
					if derr = c.Configure(decode.Options{Location: loc, Layout: layout}); derr != nil {
						err = derr
						return
					}
				}
				decoders[f] = dec
			}
			exp, _ := dec.(decode.Expander)
			for _, r := range recs {
				ev.Reset()
				ev.ID, ev.Source, ev.Format, ev.Received, ev.Raw, ev.Line = r.ID, name, f, now, r.Data, r.Line
				var derr error
				if exp != nil {
					derr = exp.Expand(r.Data, &ev, emit)
				} else if derr = dec.Decode(r.Data, &ev); derr == nil {
					emit(&ev)
				}
				if derr != nil {
					rejected++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s:%d: %v\n", name, r.Line, decode.WithFormat(f, derr))
				}
			}
		})
		closeIn()
		if err != nil {
			return err
		}
	}
	out.Flush()
	fmt.Fprintf(cmd.ErrOrStderr(), "%s, %s\n", count(events, "event", "events"), count(rejected, "record rejected", "records rejected"))
	if rejected > 0 && !allowRejected {
		return exitError{code: exitRejected}
	}
	return nil
}
