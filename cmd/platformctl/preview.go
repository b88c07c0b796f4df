package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// previewOptions are what preview shows.
type previewOptions struct {
	stack, release, host string
	json                 bool
}

func previewCmd(d deps) *cobra.Command {
	var o previewOptions
	cmd := &cobra.Command{
		Use:   "preview --stack NAME [--json | --host HOST]",
		Short: "Run the platform program for a stack offline, under mocks, and print its resources",
		Long: `preview runs the real platform program for one stack, with the stack's own Pulumi.NAME.yaml,
under the Pulumi SDK's mocks: no cloud, no credentials, nothing is created. A demo stack (demo-NAME)
previews with the demo profile (` + project.DemoProfileFile + `), its owner and expiry shown as the
placeholders ` + preview.DemoOwner + ` and ` + preview.DemoExpiry + `.

It prints the resource tree with the properties that matter for HIPAA and a count by type, or with --json
one JSON array of {urn, type, name, parent, custom, inputs, options, dependencies, propertyDependencies}. Secret
values show only as "[secret]". Mocked IDs and ARNs are deterministic, so two previews of the same code
and settings are byte for byte the same. The tiers run --release (hipaa:release), by default the stack
file's or, as the running release lives in the stack's backend, the stand-in ` + preview.DefaultRelease + `.

Exit status: 0 on success, 2 when the stack or its configuration is refused.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			return runPreview(d.stdout, p, o)
		},
	}
	cmd.Flags().StringVar(&o.stack, "stack", "", "the `STACK` to preview: dev, test, qa, prod, or a demo stack demo-NAME")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON array of the resources instead of the tree")
	cmd.Flags().StringVar(&o.host, "host", "", "print the files the user data of `HOST` writes (the Nagios configuration of hipaa-STACK-monitoring, a database host's setup) instead of the tree")
	cmd.Flags().StringVar(&o.release, "release", "", "the `IMAGE` the tiers run (tag, @digest or repository:tag); default "+preview.DefaultRelease)
	return cmd
}

// runPreview previews a stack of p and writes what o asks for.
func runPreview(out io.Writer, p *project.Project, o previewOptions) error {
	if o.stack == "" {
		stacks, _ := p.Stacks()
		return refusal.New("--stack is required; the stacks are %s, or a demo stack %sNAME", strings.Join(stacks, ", "), project.DemoPrefix)
	}
	if o.json && o.host != "" {
		return refusal.New("give at most one of --json and --host")
	}
	start := time.Now()
	resources, err := preview.Stack(p, o.stack, o.release)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	switch {
	case o.host != "":
		files, err := preview.HostFiles(resources, o.host)
		if err != nil {
			return err
		}
		for _, path := range slices.Sorted(maps.Keys(files)) {
			fmt.Fprintf(w, "==> %s <==\n%s\n", path, strings.TrimRight(files[path], "\n"))
		}
		return nil
	case o.json:
		return preview.JSON(w, resources)
	}
	if err := preview.Tree(w, o.stack, resources); err != nil {
		return err
	}
	fmt.Fprintf(w, "\noffline preview of %s under mocks in %s: nothing was created\n", o.stack, time.Since(start).Round(time.Millisecond))
	return nil
}
