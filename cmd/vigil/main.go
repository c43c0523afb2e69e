// Command vigil is open, self-hosted threat detection and incident
// response in one binary: see `vigil --help` and the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	// Every decoder registers its format.
	_ "github.com/vigil-sec/vigil/decode/all"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries an exit status and no message (exit.go): what went
// wrong was printed already.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "vigil:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Open, self-hosted threat detection and incident response",
		Long: `vigil collects security data (syslog, sshd, Windows events, cloud activity,
flow logs, CEF/LEEF), detects threats with Sigma rules, raises prioritized
alerts and keeps them per workspace.

Start with "vigil demo": it replays a sample and prints an API key and a curl
line that lists the alerts. A server (serve or demo, http://127.0.0.1:8080
by default) has the REST API under /api/v1, its OpenAPI document at
/api/v1/openapi.json, /healthz, /readyz, /metrics, and the dashboard at /,
where people sign in (vigil users create).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newDemoCmd(), newScanCmd(), newDecodeCmd(), newSendCmd(), newWorkspacesCmd(), newKeysCmd(), newAuditCmd(), newIntelCmd(), newSuppressionsCmd(), newIncidentsCmd(), newUsersCmd(), newVersionCmd(), newRulesCmd())
	root.AddCommand(newEventsCmd(), newStoreCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "vigil", version)
		},
	}
}
