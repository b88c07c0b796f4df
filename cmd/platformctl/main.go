// Command platformctl is the operators' command line for the HIPAA platform: an offline preview of any
// stack and its HIPAA audit; standing environments up; promoting, rolling back and rolling forward
// releases; and the sales team's demo stacks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Exit codes: 1 for a failed check or operation, 2 for a refused request (bad input, found before
// anything changed).
const (
	exitOK       = 0
	exitFailed   = 1
	exitBadInput = 2
)

// errViolations makes audit exit 1 once its report is written.
var errViolations = errors.New("mandatory HIPAA policy violations found")

// deps are what the commands take from outside the process: where they write, the Pulumi workspace
// they drive, the clock and who runs them. main passes the real ones; tests pass their own.
type deps struct {
	stdout, stderr io.Writer
	// workspace opens a Pulumi workspace of a project, with env (an account's backend and AWS profile)
	// added to the CLI's environment, having checked what it needs.
	workspace func(ctx context.Context, p *project.Project, env map[string]string) (auto.Workspace, error)
	now       func() time.Time
	user      func() string
	// registry finds a release's digest in the registry a stage of p pulls from; nil where there is no
	// registry to ask (the tests), and then digests are not compared.
	registry func(p *project.Project) func(ctx context.Context, stack, release string) (string, bool, error)
	// onHost runs a command on a database host (Systems Manager's Run Command).
	onHost hostRun
	// startDrill raises a stack's restore drill group to one host.
	startDrill drillStart
	// patchHost installs a database host's updates; muteAlarms and unmuteAlarms turn a stack's alarm
	// actions off and back on around it.
	patchHost    patchRun
	muteAlarms   alarmMute
	unmuteAlarms alarmUnmute
}

func main() {
	os.Exit(run(deps{stdout: os.Stdout, stderr: os.Stderr, workspace: projectWorkspace, now: time.Now, user: currentUser, registry: ecrRegistry, onHost: ssmRun, startDrill: asgDrill,
		patchHost: ssmPatch, muteAlarms: muteAlarms, unmuteAlarms: unmuteAlarms},
		os.Args[1:]))
}

// run executes one command line and returns the process exit code.
func run(d deps, args []string) int {
	root := newRoot(d)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errViolations):
		return exitFailed // the report says what failed
	}
	fmt.Fprintln(d.stderr, "platformctl:", err)
	if refusal.Is(err) {
		return exitBadInput
	}
	return exitFailed
}

// newRoot builds the command tree over d.
func newRoot(d deps) *cobra.Command {
	root := &cobra.Command{
		Use:           "platformctl",
		Short:         "Operate the HIPAA platform",
		Long:          "platformctl operates the HIPAA platform's stacks. Every command explains itself with --help.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("dir", ".", "the project `DIR`ectory (holding Pulumi.yaml), or one below it")
	root.SetOut(d.stdout)
	root.SetErr(d.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return refusal.Of(err) })
	root.AddCommand(previewCmd(d), planCmd(d), auditCmd(d), withPolicyPacks(upCmd(d)), releaseCmd(d), demoCmd(d), dbCmd(d), rotateCmd(d))
	refuseBadArguments(root)
	return root
}

// findProject finds the project from --dir.
func findProject(cmd *cobra.Command) (*project.Project, error) {
	dir, _ := cmd.Flags().GetString("dir")
	p, err := project.Find(dir)
	return p, refusal.Of(err)
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
