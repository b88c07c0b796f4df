package main

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/report"
)

// errViolations makes audit exit 1 once its report is written.
var errViolations = errors.New("mandatory HIPAA policy violations found")

func auditCmd() *cobra.Command {
	var stack, resources, format, configFile, output string
	cmd := &cobra.Command{
		Use:   "audit (--stack NAME | --resources FILE) [--format text|json|markdown|sarif]",
		Short: "Check a stack, or a preview's resources, against the HIPAA policy pack",
		Long: `audit evaluates the HIPAA policy pack in-process, with the same rules pulumi preview runs through the
pack's analyzer: over a stack of this project (its program run offline under mocks, as preview does), or
over a file written by "platformctl preview --json". It prints every finding with its rule, HIPAA
citation, resource URN and fix; waived findings are shown, never hidden.

Formats: text (default), json, markdown (a report to file with an audit: safeguards by citation, rules,
findings, waivers and a Mermaid diagram of the network and data flows), sarif (for code scanning).
--config takes the pack's configuration in the --policy-pack-config form: enforcement levels,
parameters and waivers.

Exit status: 0 when no mandatory rule fails, 1 when one does, 2 on bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (stack == "") == (resources == "") {
				return refusal.New("give exactly one of --stack NAME and --resources FILE")
			}
			if !slices.Contains(report.Formats, format) {
				return refusal.New("--format %q: want one of %s", format, strings.Join(report.Formats, ", "))
			}
			cfg := engine.Config{}
			if configFile != "" {
				data, err := os.ReadFile(configFile)
				if err != nil {
					return refusal.New("--config: %w", err)
				}
				if cfg, err = hipaa.Pack().ParseConfig(data); err != nil {
					return refusal.New("--config %s: %w", configFile, err)
				}
			}
			a, err := loadAudit(cmd, stack, resources)
			if err != nil {
				return err
			}
			a.Report = a.Pack.Evaluate(a.Resources, cfg)
			a.Generated = time.Now().UTC().Format("2006-01-02")

			out := cmd.OutOrStdout()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return refusal.New("--output: %w", err)
				}
				defer f.Close()
				out = f
			}
			w := bufio.NewWriter(out)
			if err := report.Write(w, format, a); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if a.Report.Failed() {
				return errViolations
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "a stack of this project to audit (its program is run offline)")
	cmd.Flags().StringVar(&resources, "resources", "", "a file written by `platformctl preview --json` to audit")
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	cmd.Flags().StringVar(&configFile, "config", "", "the policy pack's configuration (JSON, as for --policy-pack-config)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to this file instead of standard output")
	return cmd
}

func loadAudit(cmd *cobra.Command, stack, resources string) (*report.Audit, error) {
	if resources != "" {
		f, err := os.Open(resources)
		if err != nil {
			return nil, refusal.New("--resources: %w", err)
		}
		defer f.Close()
		rs, err := audit.ReadPreviewJSON(f)
		if err != nil {
			return nil, refusal.New("--resources %s: %w", resources, err)
		}
		return &report.Audit{Subject: "resources in " + filepath.Base(resources), Source: resources, Pack: hipaa.Pack(), Resources: rs}, nil
	}
	dir, _ := cmd.Flags().GetString("dir")
	p, err := project.Find(dir)
	if err != nil {
		return nil, refusal.Of(err)
	}
	rs, err := preview.Stack(p, stack, "")
	if err != nil {
		return nil, err
	}
	return &report.Audit{Subject: "stack " + stack, Source: "Pulumi." + stack + ".yaml", Pack: hipaa.Pack(), Resources: audit.FromOffline(rs)}, nil
}
