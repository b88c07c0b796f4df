package main

import (
	"bufio"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func previewCmd() *cobra.Command {
	var stack, release, host string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "preview --stack NAME [--json]",
		Short: "Run the platform program for a stack offline, under mocks, and print its resources",
		Long: `preview runs the real platform program for one stack, with the stack's own Pulumi.NAME.yaml,
under the Pulumi SDK's mocks: no cloud, no credentials, nothing is created. It prints the resource tree with
the properties that matter for HIPAA and a count by type, or with --json one JSON array of
{urn, type, name, parent, custom, inputs, dependencies, propertyDependencies}. Secret values show only as
"[secret]". Mocked IDs and ARNs are deterministic, so two previews can be diffed. The tiers run --release
(hipaa:release), by default the stack file's or, as the running release lives in the stack's backend,
the stand-in ` + preview.DefaultRelease + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString("dir")
			p, err := project.Find(dir)
			if err != nil {
				return refusal.Of(err)
			}
			if stack == "" {
				stacks, _ := p.Stacks()
				return refusal.New("--stack is required; the stacks are %v", stacks)
			}
			start := time.Now()
			resources, err := preview.Stack(p, stack, release)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			if host != "" {
				files, err := preview.HostFiles(resources, host)
				if err != nil {
					return err
				}
				for _, path := range slices.Sorted(maps.Keys(files)) {
					fmt.Fprintf(w, "==> %s <==\n%s\n", path, strings.TrimRight(files[path], "\n"))
				}
				return nil
			}
			if asJSON {
				return preview.JSON(w, resources)
			}
			if err := preview.Tree(w, stack, resources); err != nil {
				return err
			}
			fmt.Fprintf(w, "\noffline preview of %s under mocks in %s: nothing was created\n", stack, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "the stack to preview (dev, test, qa, prod, or a demo stack)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array of the resources instead of the tree")
	cmd.Flags().StringVar(&host, "host", "", "print the files a host's user data writes (the Nagios configuration of hipaa-STACK-monitoring, a database host's setup) instead of the tree")
	cmd.Flags().StringVar(&release, "release", "", "the image the tiers run (tag, @digest or repository:tag); default "+preview.DefaultRelease)
	return cmd
}
