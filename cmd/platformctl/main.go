// Command platformctl is the operators' command line for the HIPAA platform: an offline preview of any
// stack and its HIPAA audit; standing environments up; promoting, rolling back and rolling forward
// releases; and the sales team's demo stacks.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// Exit codes: 1 for a failed check or operation, 2 for bad input (an unknown stack, an invalid flag or
// configuration).
const (
	exitOK       = 0
	exitFailed   = 1
	exitBadInput = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "platformctl",
		Short:         "Operate the HIPAA platform",
		Long:          "platformctl operates the HIPAA platform's stacks. Every command explains itself with --help.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("dir", ".", "the project directory (holding Pulumi.yaml), or one below it")
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return refusal.Of(err) })
	root.AddCommand(previewCmd(), auditCmd(), withPolicyPacks(upCmd()), releaseCmd(), demoCmd())

	err := root.Execute()
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errViolations) {
		return exitFailed // the report says what failed
	}
	fmt.Fprintln(stderr, "platformctl:", err)
	if refusal.Is(err) {
		return exitBadInput
	}
	return exitFailed
}
