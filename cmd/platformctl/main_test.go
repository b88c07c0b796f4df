package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/hipaa-platform/platform/internal/project"
)

// testNow is the tests' clock.
var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// testDeps are the commands' dependencies in a test: the given writers and workspace (none when nil),
// a fixed clock and user.
func testDeps(stdout, stderr io.Writer, ws auto.Workspace) deps {
	return deps{
		stdout: stdout, stderr: stderr, now: func() time.Time { return testNow }, user: func() string { return "tester" },
		workspace: func(context.Context, *project.Project, map[string]string) (auto.Workspace, error) {
			if ws == nil {
				return nil, errors.New("no workspace in this test")
			}
			return ws, nil
		},
	}
}

// runArgs runs a command line as main does, with no workspace.
func runArgs(args []string, stdout, stderr io.Writer) int {
	return run(testDeps(stdout, stderr, nil), args)
}
