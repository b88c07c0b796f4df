package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// ssmRun runs command on host (the instance whose Name tag it is) with Systems Manager's Run Command
// (AWS-RunShellScript), through the AWS CLI, and waits for its result. The command's exit code is the
// invocation's ResponseCode, and its output GetCommandInvocation's StandardOutputContent and
// StandardErrorContent ("the first 24,000 characters", SSM API reference); an invocation that never
// reaches the host (no running, managed instance of that name; Undeliverable, TimedOut) is an error,
// so the caller asks the next host. Not exercised here: there is no AWS account on these machines.
func ssmRun(ctx context.Context, t dbTarget, host string, command []string) (string, string, int, error) {
	if _, err := exec.LookPath("aws"); err != nil {
		return "", "", 0, refusal.New("running %s on %s needs the AWS CLI on the PATH (aws ssm send-command); install it", command[0], host)
	}
	env := map[string]string{}
	if t.Profile != "" {
		env["AWS_PROFILE"] = t.Profile
	}
	params, _ := json.Marshal(map[string][]string{"commands": {shellJoin(command)}})
	out, err := awsCLI(ctx, env, "ssm", "send-command", "--region", t.Region, "--document-name", "AWS-RunShellScript",
		"--targets", "Key=tag:Name,Values="+host, "--parameters", string(params), "--timeout-seconds", "60",
		"--comment", "platformctl db: "+strings.Join(command[1:], " "))
	if err != nil {
		return "", "", 0, err
	}
	var sent struct{ Command struct{ CommandId string } }
	if err := json.Unmarshal(out, &sent); err != nil || sent.Command.CommandId == "" {
		return "", "", 0, fmt.Errorf("aws ssm send-command: unexpected answer %q", out)
	}
	id := sent.Command.CommandId
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return "", "", 0, ctx.Err()
		case <-time.After(3 * time.Second):
		}
		out, err := awsCLI(ctx, env, "ssm", "list-command-invocations", "--region", t.Region, "--command-id", id)
		if err != nil {
			return "", "", 0, err
		}
		var list struct {
			CommandInvocations []struct{ InstanceId, Status string }
		}
		if err := json.Unmarshal(out, &list); err != nil {
			return "", "", 0, fmt.Errorf("aws ssm list-command-invocations: %w", err)
		}
		if len(list.CommandInvocations) == 0 {
			continue
		}
		inv := list.CommandInvocations[0]
		switch inv.Status {
		case "Pending", "InProgress", "Delayed":
			continue
		case "Success", "Failed":
		default:
			return "", "", 0, fmt.Errorf("%s did not run the command (%s)", host, inv.Status)
		}
		out, err = awsCLI(ctx, env, "ssm", "get-command-invocation", "--region", t.Region, "--command-id", id, "--instance-id", inv.InstanceId)
		if err != nil {
			return "", "", 0, err
		}
		var res struct {
			ResponseCode                                int
			StandardOutputContent, StandardErrorContent string
		}
		if err := json.Unmarshal(out, &res); err != nil {
			return "", "", 0, fmt.Errorf("aws ssm get-command-invocation: %w", err)
		}
		return res.StandardOutputContent, res.StandardErrorContent, res.ResponseCode, nil
	}
	return "", "", 0, fmt.Errorf("no instance named %s ran the command within 10 minutes (not running, or not managed by Systems Manager)", host)
}

// shellJoin quotes each word for the shell AWS-RunShellScript runs.
func shellJoin(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// asgDrill starts a drill with the AWS CLI: the group's desired capacity, refused at one or more (a
// drill runs), then raised to one. Not exercised here: there is no AWS account on these machines.
func asgDrill(ctx context.Context, t dbTarget, group string) error {
	if _, err := exec.LookPath("aws"); err != nil {
		return refusal.New("starting a drill needs the AWS CLI on the PATH (aws autoscaling set-desired-capacity); install it")
	}
	env := map[string]string{}
	if t.Profile != "" {
		env["AWS_PROFILE"] = t.Profile
	}
	out, err := awsCLI(ctx, env, "autoscaling", "describe-auto-scaling-groups", "--region", t.Region, "--auto-scaling-group-names", group)
	if err != nil {
		return err
	}
	var groups struct {
		AutoScalingGroups []struct{ DesiredCapacity int }
	}
	if err := json.Unmarshal(out, &groups); err != nil {
		return fmt.Errorf("aws autoscaling describe-auto-scaling-groups: %w", err)
	}
	if len(groups.AutoScalingGroups) == 0 {
		return fmt.Errorf("%s has no drill group %s: is the stack up?", t.Stack, group)
	}
	if n := groups.AutoScalingGroups[0].DesiredCapacity; n > 0 {
		return refusal.New("a restore drill of %s is running (%s has %d host); it scales back to zero when done", t.Stack, group, n)
	}
	_, err = awsCLI(ctx, env, "autoscaling", "set-desired-capacity", "--region", t.Region, "--auto-scaling-group-name", group, "--desired-capacity", "1")
	return err
}
