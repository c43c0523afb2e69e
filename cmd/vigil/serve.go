package main

import (
	"time"

	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run vigil: ingest, detection, alerts and the API",
		Long: `Run vigil in one process: HTTP ingest at /api/v1/ingest, an embedded NATS
JetStream bus (or an external one with --nats-url), the detect stage, the
SQLite store in the data directory, and the API at /api/v1 (its OpenAPI
document at /api/v1/openapi.json), and the dashboard at /.

Every setting below can also come from the environment (VIGIL_…) or a YAML
config file (--config); a flag wins over the environment, which wins over
the file. See docs/configuration.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			log, err := newLogger(cfg)
			if err != nil {
				return err
			}
			s, err := startServer(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			s.log.Info("shutting down: draining ingest and detection")
			return s.shutdown(60 * time.Second)
		},
	}
	addSettingFlags(cmd.Flags())
	return cmd
}
