package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet/fleettest"
)

// TestReleaseAndDemoCommands runs the commands as an operator does, against the stand-in workspace:
// exit codes, messages and progress.
func TestReleaseAndDemoCommands(t *testing.T) {
	t.Parallel()
	env := fleettest.New(t, "../..")
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(testDeps(&out, &errb, env.Workspace), append([]string{"--dir", "../.."}, args...))
		return code, out.String(), errb.String()
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"release", "promote", "v1.0.0", "--to", "test"}, exitBadInput, "v1.0.0 has not run on dev"},
		{[]string{"release", "promote", "hipaa-app@sha256:beef", "--to", "dev"}, exitBadInput, `digest "sha256:beef"`},
		{[]string{"release", "promote", "v1.0.0", "--to", "staging"}, exitBadInput, `unknown stack "staging"`},
		{[]string{"release", "promote", "v1.0.0"}, exitBadInput, "give exactly one of --to STACK and --all"},
		{[]string{"release", "rollback"}, exitBadInput, "--stack is required"},
		{[]string{"up", "--stack", "dev"}, exitBadInput, "dev runs no release yet; pass --release IMAGE"},
		{[]string{"demo", "create", "Acme_Corp", "--release", "v1.0.0"}, exitBadInput, `demo name "Acme_Corp"`},
		{[]string{"demo", "create", "acme", "--from", "qa"}, exitBadInput, "qa runs no release to demo"},
		{[]string{"demo", "destroy", "nosuch"}, exitBadInput, "no demo nosuch"},
	} {
		code, _, stderr := cli(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("platformctl %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}

	code, stdout, stderr := cli("release", "promote", "v1.0.0", "--to", "dev")
	if code != exitOK || !strings.Contains(stdout, "promoted v1.0.0") {
		t.Fatalf("promote: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Progress: our steps and the engine's own.
	for _, want := range []string{"dev: creating the stack", "dev: promote v1.0.0 to dev", "Updating (dev)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	code, stdout, _ = cli("release", "status")
	if code != exitOK || !strings.Contains(stdout, "STACK") || !strings.Contains(stdout, "hipaa-app@sha256:") || !strings.Contains(stdout, "not created") {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := cli("release", "rollback", "--stack", "dev"); code != exitBadInput || !strings.Contains(stderr, "nothing to roll back to") {
		t.Errorf("rollback: exit %d, %s", code, stderr)
	}
}

// TestEveryCommandSaysWhatItDoes walks the command tree: every command has a one-line summary and a
// description for --help.
func TestEveryCommandSaysWhatItDoes(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if code := runArgs([]string{"--help"}, &out, &out); code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	root := newRoot(testDeps(&out, &out, nil))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Short == "" || len(sub.Long) < 60 {
				t.Errorf("%s: Short %q, Long %d characters", sub.CommandPath(), sub.Short, len(sub.Long))
			}
			walk(sub)
		}
	}
	walk(root)
	for _, want := range []string{"release", "demo", "up", "preview", "audit"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not list %s:\n%s", want, out.String())
		}
	}
}
