package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/fleet/fleettest"
	"github.com/hipaa-platform/platform/policy/hipaatest"
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
		// An image the stage would refuse is refused before any stack is created or updated.
		{[]string{"release", "promote", "other:v1.0.0", "--to", "dev"}, exitBadInput, `hipaa:release: names repository "other"; the hosts may pull only from "hipaa-app"`},
		{[]string{"release", "promote", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hipaa-app:v1.0.0", "--all"}, exitBadInput,
			"stack dev: 1 invalid configuration value(s); nothing was created:\n  hipaa:release: names a registry outside the stack's region us-east-1"},
		{[]string{"up", "--stack", "qa", "--release", "ghcr.io/hipaa-app:v1"}, exitBadInput, "not an ECR registry"},
		{[]string{"demo", "create", "acme", "--release", "other:v1"}, exitBadInput, `stack demo-acme: 1 invalid configuration value(s)`},
	} {
		code, _, stderr := cli(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("platformctl %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
	// Nothing was created by any of those, and an empty list of demos is an empty JSON list.
	if code, stdout, _ := cli("release", "status", "--json"); code != exitOK || strings.Contains(stdout, `"created": true`) {
		t.Errorf("a refused request created a stack: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := cli("demo", "list", "--json"); code != exitOK || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("demo list --json with no demos: exit %d, %q; want []", code, stdout)
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
	// The promotion passed dev's audit, which --report-dir kept, and left its record in dev's history.
	reports := t.TempDir()
	if code, _, stderr := cli("release", "promote", "v1.0.1", "--to", "dev", "--report-dir", reports); code != exitOK || !strings.Contains(stderr, "dev: the HIPAA audit with v1.0.1 passed (report sha256:") {
		t.Errorf("promote with its audit: exit %d\n%s", code, stderr)
	}
	report, err := os.ReadFile(filepath.Join(reports, "audit-dev.md"))
	if err != nil || !strings.Contains(string(report), "stack dev") {
		t.Errorf("the audit's report was not kept: %v", err)
	}
	sum := sha256.Sum256(report)
	code, stdout, _ = cli("release", "history", "--stack", "dev")
	if code != exitOK || !strings.Contains(stdout, "promote") || !strings.Contains(stdout, "tester") || !strings.Contains(stdout, "sha256:"+hex.EncodeToString(sum[:])) {
		t.Errorf("history: exit %d, want tester's promotion with the kept report's digest\n%s", code, stdout)
	}
	if code, _, stderr := cli("release", "rollback", "--stack", "dev", "--force", "--reason", "v1.0.1 misbehaves"); code != exitOK {
		t.Errorf("forced rollback: exit %d\n%s", code, stderr)
	}
	code, stdout, _ = cli("release", "status")
	if code != exitOK || !strings.Contains(stdout, "rollback by tester, audit ") || !strings.Contains(stdout, ", forced") {
		t.Errorf("status lacks the last promotion: exit %d\n%s", code, stdout)
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
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			// A flag that takes a value names it (--resources FILE), rather than its Go type.
			if name, _ := pflag.UnquoteUsage(f); name == "string" || name == "strings" || name == "duration" || name == "int" {
				t.Errorf("%s --%s shows its value as %q; name it in the usage with backquotes", c.CommandPath(), f.Name, name)
			}
		})
		for _, sub := range c.Commands() {
			if sub.Name() == "completion" || sub.Name() == "help" {
				continue // cobra's own
			}
			if sub.Short == "" || len(sub.Long) < 60 {
				t.Errorf("%s: Short %q, Long %d characters", sub.CommandPath(), sub.Short, len(sub.Long))
			}
			walk(sub)
		}
	}
	walk(root)
	var help bytes.Buffer
	runArgs([]string{"audit", "--help"}, &help, &help)
	for _, want := range []string{"--resources FILE", "--stack STACK", "--config FILE", "-o, --output FILE", "--format FORMAT", "--dir DIR"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("audit --help lacks %q:\n%s", want, help.String())
		}
	}
	for _, want := range []string{"release", "demo", "up", "preview", "audit"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not list %s:\n%s", want, out.String())
		}
	}
}

// TestEveryRefusalExits2 covers what is refused before any command runs: unknown commands and
// subcommands, with the nearest suggested, wrong numbers of arguments, bad flags and values.
func TestEveryRefusalExits2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "platformctl"; the commands are audit, completion, db, demo, plan, preview, release, rotate, up`},
		{[]string{"previw"}, "did you mean preview?"},
		{[]string{"release", "frobnicate"}, `unknown command "frobnicate" for "platformctl release"; the commands are history, promote, roll-forward, rollback, status`},
		{[]string{"release", "stats"}, "did you mean status?"},
		{[]string{"demo", "remove", "acme"}, `unknown command "remove" for "platformctl demo"`},
		{[]string{"release", "promote", "--to", "dev"}, "platformctl release promote takes one IMAGE, got 0 argument(s)"},
		{[]string{"release", "promote", "v1", "v2", "--to", "dev"}, `platformctl release promote takes one IMAGE, got 2 argument(s) ("v1 v2")`},
		{[]string{"demo", "create"}, "platformctl demo create takes one NAME, got 0"},
		{[]string{"demo", "destroy", "a", "b"}, "platformctl demo destroy takes one NAME, got 2"},
		{[]string{"audit", "prod", "--stack", "dev"}, `platformctl audit takes no arguments, got "prod"`},
		{[]string{"preview", "dev"}, `platformctl preview takes no arguments, got "dev"`},
		{[]string{"release", "status", "prod"}, "platformctl release status takes no arguments"},
		{[]string{"up", "--stack", "dev", "--all"}, "give --stack STACK (with --release IMAGE for a new stage) or --all"},
		{[]string{"release", "rollback", "--stack"}, "flag needs an argument: --stack"},
		{[]string{"demo", "create", "acme", "--ttl", "forever"}, `invalid argument "forever" for "--ttl" flag`},
		{[]string{"preview", "--stack", "dev", "--json", "--host", "x"}, "give at most one of --json and --host"},
		{[]string{"release", "promote", "v1", "--to", "prod", "--force"}, "--force needs --reason REASON: a forced operation records why"},
		{[]string{"release", "promote", "v1", "--to", "prod", "--force", "--reason", "  "}, "--force needs --reason REASON"},
		{[]string{"release", "rollback", "--stack", "prod", "--reason", "x"}, "--reason is only for --force"},
		{[]string{"release", "history"}, "--stack is required; the stages are dev, test, qa, prod"},
	} {
		var out, errb bytes.Buffer
		code := runArgs(append([]string{"--dir", "../.."}, tc.args...), &out, &errb)
		if code != exitBadInput || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("platformctl %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
	var out bytes.Buffer
	if code := runArgs([]string{"release"}, &out, &out); code != exitOK || !strings.Contains(out.String(), "Available Commands") {
		t.Errorf("release alone: exit %d, want its help:\n%s", code, out.String())
	}
}

// TestTheFleetSaysWhatItLacks runs the real workspace opener with what is missing from the PATH and
// the environment, and checks the one line each refusal is.
func TestTheFleetSaysWhatItLacks(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("PULUMI_HOME", t.TempDir())
	t.Setenv("PULUMI_BACKEND_URL", "")
	cli := func() (int, string) {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.workspace = projectWorkspace
		return run(d, []string{"--dir", "../..", "release", "status"}), errb.String()
	}
	if code, stderr := cli(); code != exitBadInput || stderr != "platformctl: this command needs the Pulumi CLI (3.255 or newer) on the PATH; install it as https://www.pulumi.com/docs/iac/download-install/ says\n" {
		t.Errorf("no CLI: exit %d, %q", code, stderr)
	}
	real := hipaatest.PulumiCLI(t)
	if err := os.Symlink(real, filepath.Join(bin, "pulumi")); err != nil {
		t.Fatal(err)
	}
	if code, stderr := cli(); code != exitBadInput || !strings.Contains(stderr, "the project's runtime is go, and the Pulumi CLI at "+filepath.Join(bin, "pulumi")+" has no language host pulumi-language-go beside it or on the PATH") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("no language host: exit %d, %q", code, stderr)
	}
	// A language host on the PATH passes that check (the file is only looked for, never run here); then
	// there is no backend to read the stacks from.
	if err := os.WriteFile(filepath.Join(bin, "pulumi-language-go"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stderr := cli(); code != exitBadInput || !strings.Contains(stderr, "no Pulumi backend: log in with `pulumi login`") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("no backend: exit %d, %q", code, stderr)
	}
}

// TestStatusMarksAFailedUpdate: a stage whose last update failed says so beside its last update, and
// still shows the release it runs, the last that succeeded.
func TestStatusMarksAFailedUpdate(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := writeStatus(&b, []fleet.Status{
		{Stack: "dev", Created: true, Release: "v2", Image: "img@sha256:2", LastUpdate: "2026-12-01T08:00:00Z", LastResult: "succeeded", Releases: []string{"v1", "v2"}},
		{Stack: "qa", Created: true, Release: "v1", Image: "img@sha256:1", LastUpdate: "2026-12-01T09:00:00Z", LastResult: "failed", Releases: []string{"v1"}},
		{Stack: "prod"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[2], "v1") || !strings.Contains(lines[2], "2026-12-01T09:00:00Z (failed)") || strings.Contains(lines[1], "(") ||
		!strings.Contains(lines[3], "not created") {
		t.Errorf("status table:\n%s", b.String())
	}
}
