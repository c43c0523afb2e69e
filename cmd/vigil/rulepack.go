package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/rule/pack"
)

// rulePacks is the data directory's store of installed rule packs.
func rulePacks(cfg *Config) *pack.Store {
	return &pack.Store{Root: filepath.Join(cfg.DataDir, "rulepacks")}
}

// rulePackFetchTimeout bounds the download of a pack.
const rulePackFetchTimeout = 5 * time.Minute

func newRulesInstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "install FILE|DIR|URL",
		Short: "Install a rule pack (a SigmaHQ release archive, or any archive or directory of rules)",
		Long: `Install a rule pack into the data directory, where vigil serve loads it at
its next rules reload. The source is a .zip, .tar.gz or .tar archive, a
directory, or one rule file, given as a path or an http or https URL (a
SigmaHQ release archive such as sigma_all_rules.zip). Rules are selected by
--status and --level; every install is a new version of the pack, recorded
with the source's SHA-256 (checked against --sha256 when given), and prints
what changed from the version before. vigil rules rollback NAME goes back.`,
		Args: cobra.ExactArgs(1),
		RunE: runRulesInstall,
	}
	cmd.Flags().String("name", "", "the pack's name (default: the source's file name without its extension)")
	cmd.Flags().StringSlice("status", nil, "statuses to install (stable, test, experimental, deprecated, unsupported); default all")
	cmd.Flags().String("level", "", "lowest level to install (informational, low, medium, high, critical); default all")
	cmd.Flags().String("sha256", "", "the source's expected SHA-256: install nothing if it differs")
	cmd.Flags().Bool("json", false, "print the manifest and the changes as JSON")
	cmd.Flags().Bool("diff", false, "list every added, removed and changed rule (default: the first 20 of each)")
	addStoreFlags(cmd)
	return cmd
}

func newRulesPacksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "packs",
		Short: "List the installed rule packs and their versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			list, err := rulePacks(cfg).List()
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no rule pack installed (vigil rules install FILE|URL installs one)")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tDOCUMENTS\tINSTALLED\tVERSIONS\tSOURCE")
			for _, p := range list {
				m := p.Current
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", m.Name, m.Version, len(m.Entries),
					m.Installed.Format(time.RFC3339), len(p.Versions), m.Source)
			}
			return tw.Flush()
		},
	}
	addStoreFlags(cmd)
	return cmd
}

func newRulesRollbackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Undo the last install of a rule pack: the version current before it is current again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			m, d, err := rulePacks(cfg).Rollback(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "rule pack %s is back at version %s (installed %s from %s)\n", m.Name, m.Version, m.Installed.Format(time.RFC3339), m.Source)
			printPackDiff(out, d, 20)
			return nil
		},
	}
	addStoreFlags(cmd)
	return cmd
}

func newRulesUninstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uninstall NAME",
		Short: "Remove a rule pack with all its versions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if err := rulePacks(cfg).Remove(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rule pack %s removed; vigil serve drops its rules at its next rules reload\n", args[0])
			return nil
		},
	}
	addStoreFlags(cmd)
	return cmd
}

func runRulesInstall(cmd *cobra.Command, args []string) error {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return fmt.Errorf("data directory %s: %w (run `vigil serve` or `vigil workspaces create NAME` first, or name it with --data-dir)", cfg.DataDir, unwrapPath(err))
	}
	srcName := args[0]
	src, err := readPackSource(cmd.Context(), srcName)
	if err != nil {
		return err
	}
	if want, _ := cmd.Flags().GetString("sha256"); want != "" && !strings.EqualFold(want, src.SHA256) {
		return fmt.Errorf("%s: SHA-256 is %s, not the %s given with --sha256: nothing installed", srcName, src.SHA256, want)
	}
	name, _ := cmd.Flags().GetString("name")
	if name == "" {
		name = packNameOf(srcName)
	}
	var sel pack.Selection
	sel.Status, _ = cmd.Flags().GetStringSlice("status")
	for i := range sel.Status {
		sel.Status[i] = strings.ToLower(strings.TrimSpace(sel.Status[i]))
	}
	sel.MinLevel, _ = cmd.Flags().GetString("level")
	sel.MinLevel = strings.ToLower(sel.MinLevel)
	m, d, err := rulePacks(cfg).Install(name, srcName, src, sel)
	out := cmd.OutOrStdout()
	if errors.Is(err, pack.ErrUnchanged) {
		fmt.Fprintf(out, "rule pack %s is already at this source (version %s, sha256 %s): nothing to do\n", name, m.Version, m.SHA256)
		return nil
	}
	if err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Manifest pack.Manifest `json:"manifest"`
			Diff     pack.Diff     `json:"diff"`
		}{m, d})
	}
	rules := 0
	for _, e := range m.Entries {
		if e.Kind == "rule" {
			rules++
		}
	}
	fmt.Fprintf(out, "installed rule pack %s version %s\n  source %s\n  sha256 %s\n", m.Name, m.Version, m.Source, m.SHA256)
	fmt.Fprintf(out, "  %d files: %d rules, %d correlation rules and filters; %d rules left out by the selection\n",
		m.Files, rules, len(m.Entries)-rules, m.Deselected)
	for _, p := range m.Problems {
		fmt.Fprintf(cmd.ErrOrStderr(), "not installed: %s\n", p.Reason)
	}
	all, _ := cmd.Flags().GetBool("diff")
	limit := 20
	if all {
		limit = -1
	}
	printPackDiff(out, d, limit)
	fmt.Fprintln(out, "vigil serve loads it at its next rules reload (setting rules-reload); vigil rules rollback", m.Name, "undoes it")
	return nil
}

// printPackDiff prints the counts of d and up to limit entries of each
// kind of change (all when limit < 0).
func printPackDiff(w io.Writer, d pack.Diff, limit int) {
	fmt.Fprintf(w, "  changes: %d added, %d removed, %d changed, %d unchanged\n", len(d.Added), len(d.Removed), len(d.Changed), d.Same)
	for _, part := range []struct {
		mark    string
		entries []pack.Entry
	}{{"+", d.Added}, {"-", d.Removed}, {"~", d.Changed}} {
		for i, e := range part.entries {
			if limit >= 0 && i == limit {
				fmt.Fprintf(w, "  %s … and %d more (--diff lists them all)\n", part.mark, len(part.entries)-limit)
				break
			}
			fmt.Fprintf(w, "  %s %s %s (%s)\n", part.mark, e.ID, e.Title, e.File)
		}
	}
}

// readPackSource reads a local path, or downloads an http(s) URL into a
// temporary file first.
func readPackSource(ctx context.Context, src string) (*pack.Source, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return pack.ReadFile(src)
	}
	ctx, cancel := context.WithTimeout(ctx, rulePackFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: %w", redactURL(u), err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: %w", redactURL(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rule pack %s: HTTP %s", redactURL(u), resp.Status)
	}
	tmp, err := os.CreateTemp("", "vigil-rulepack-*")
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: %w", redactURL(u), err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, pack.MaxTotal+1))
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: download: %w", redactURL(u), err)
	}
	if n > pack.MaxTotal {
		return nil, fmt.Errorf("rule pack %s: more than the %d bytes a rule pack may have", redactURL(u), pack.MaxTotal)
	}
	s, err := pack.ReadArchive(tmp, n, u.Path)
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: %w", redactURL(u), err)
	}
	return s, nil
}

// redactURL drops the credentials a URL may carry before it is printed.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("xxxxx")
	}
	return c.String()
}

// packNameOf derives a pack name from a source: its last path element
// without archive extensions, lower-cased, other characters as '-'.
func packNameOf(src string) string {
	base := src
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		base = u.Path
	}
	base = path.Base(filepath.ToSlash(strings.TrimRight(base, `/\`)))
	for _, ext := range []string{".tar.gz", ".tgz", ".zip", ".tar", ".yml", ".yaml"} {
		if b, ok := strings.CutSuffix(strings.ToLower(base), ext); ok {
			base = base[:len(b)]
			break
		}
	}
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.TrimLeft(b.String(), "._-")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = "pack"
	}
	return name
}
