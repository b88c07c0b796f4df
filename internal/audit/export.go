package audit

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// Export is what `pulumi stack export --stack STACK` prints, run by ws's CLI in its directory and
// environment: the state with its secrets encrypted. The Automation API's own ExportStack passes
// --show-secrets (sdk/go/auto/local_workspace.go), which would bring every secret of the stack into the
// audit's memory in plaintext; an audit needs none of them.
func Export(ctx context.Context, ws auto.Workspace, stack string) ([]byte, error) {
	var env []string
	if home := ws.PulumiHome(); home != "" {
		env = append(env, "PULUMI_HOME="+home)
	}
	for k, v := range ws.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	stdout, stderr, code, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env, "stack", "export", "--stack", stack)
	if err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr), "error:")), "\n")
		return nil, fmt.Errorf("pulumi stack export --stack %s exited %d: %s", stack, code, msg)
	}
	return []byte(stdout), nil
}
