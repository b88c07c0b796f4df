package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// ssmRun runs command on host (the instance whose Name tag it is) with Systems Manager's Run Command
// (AWS-RunShellScript), through the AWS CLI, and waits for its result. Not exercised here: there is no
// AWS account on these machines.
func ssmRun(ctx context.Context, t dbTarget, host string, command []string) (string, string, int, error) {
	return ssmInvoke(ctx, t, host, "AWS-RunShellScript", map[string][]string{"commands": {shellJoin(command)}},
		"platformctl db: "+strings.Join(command[1:], " "), 3*time.Second, 10*time.Minute)
}

// ssmPatch installs host's approved updates with AWS-RunPatchBaseline (Operation Install, RebootOption
// RebootIfNeeded) and waits for the invocation's result. A Run Command script that asks for a reboot
// (exit 194) is restarted by the agent after it, the service told first ("Handling reboots when running
// commands", Systems Manager User Guide); that AWS-RunPatchBaseline's reboot keeps its invocation in
// progress that way is assumed, not confirmed here, and a wait that ends without a result is an error.
// Not exercised here.
func ssmPatch(ctx context.Context, t dbTarget, host string) error {
	out, errOut, code, err := ssmInvoke(ctx, t, host, "AWS-RunPatchBaseline",
		map[string][]string{"Operation": {"Install"}, "RebootOption": {"RebootIfNeeded"}},
		"platformctl db patch", 15*time.Second, patchTimeout+10*time.Minute)
	if err == nil && code != 0 {
		err = fmt.Errorf("AWS-RunPatchBaseline exited %d: %s", code, tail(strings.TrimSpace(errOut+"\n"+out), 800))
	}
	return err
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// profileEnv is the AWS CLI's environment for t's account.
func profileEnv(t dbTarget) map[string]string {
	env := map[string]string{}
	if t.Profile != "" {
		env["AWS_PROFILE"] = t.Profile
	}
	return env
}

// ssmInvoke sends document with params to host and waits up to wait, asking every poll, for its
// result. The command's exit code is the invocation's ResponseCode, and its output
// GetCommandInvocation's StandardOutputContent and StandardErrorContent ("the first 24,000
// characters", SSM API reference); an invocation that never reaches the host (no running, managed
// instance of that name; Undeliverable, TimedOut) is an error, so the caller asks the next host.
func ssmInvoke(ctx context.Context, t dbTarget, host, document string, params map[string][]string, comment string, poll, wait time.Duration) (string, string, int, error) {
	if _, err := exec.LookPath("aws"); err != nil {
		return "", "", 0, refusal.New("running %s on %s needs the AWS CLI on the PATH (aws ssm send-command); install it", document, host)
	}
	env := profileEnv(t)
	encoded, _ := json.Marshal(params)
	out, err := awsCLI(ctx, env, "ssm", "send-command", "--region", t.Region, "--document-name", document,
		"--targets", "Key=tag:Name,Values="+host, "--parameters", string(encoded), "--timeout-seconds", "60",
		"--comment", comment)
	if err != nil {
		return "", "", 0, err
	}
	var sent struct{ Command struct{ CommandId string } }
	if err := json.Unmarshal(out, &sent); err != nil || sent.Command.CommandId == "" {
		return "", "", 0, fmt.Errorf("aws ssm send-command: unexpected answer %q", out)
	}
	id := sent.Command.CommandId
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return "", "", 0, ctx.Err()
		case <-time.After(poll):
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
			return "", "", 0, fmt.Errorf("%s did not run %s (%s)", host, document, inv.Status)
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
	return "", "", 0, fmt.Errorf("no instance named %s finished %s within %s (not running, or not managed by Systems Manager)", host, document, wait)
}

// muteAlarms turns off the actions of t's metric alarms whose names begin with one of prefixes and
// whose actions are on (an alarm an operator turned off stays off), and returns their names. The
// alarms still change state; only their notifications stop. Not exercised here.
func muteAlarms(ctx context.Context, t dbTarget, prefixes []string) ([]string, error) {
	env := profileEnv(t)
	var names []string
	for _, p := range prefixes {
		out, err := awsCLI(ctx, env, "cloudwatch", "describe-alarms", "--region", t.Region, "--alarm-types", "MetricAlarm", "--alarm-name-prefix", p)
		if err != nil {
			return nil, err
		}
		var found struct {
			MetricAlarms []struct {
				AlarmName      string
				ActionsEnabled bool
			}
		}
		if err := json.Unmarshal(out, &found); err != nil {
			return nil, fmt.Errorf("aws cloudwatch describe-alarms: %w", err)
		}
		for _, a := range found.MetricAlarms {
			if a.ActionsEnabled {
				names = append(names, a.AlarmName)
			}
		}
	}
	return names, switchAlarms(ctx, t, "disable-alarm-actions", names)
}

// unmuteAlarms turns the actions of the alarms named back on.
func unmuteAlarms(ctx context.Context, t dbTarget, names []string) error {
	return switchAlarms(ctx, t, "enable-alarm-actions", names)
}

// switchAlarms runs aws cloudwatch action for names, 100 at a time (AlarmNames: "Maximum number of 100
// items", DisableAlarmActions and EnableAlarmActions in the CloudWatch API reference).
func switchAlarms(ctx context.Context, t dbTarget, action string, names []string) error {
	for batch := range slices.Chunk(names, 100) {
		if _, err := awsCLI(ctx, profileEnv(t), append([]string{"cloudwatch", action, "--region", t.Region, "--alarm-names"}, batch...)...); err != nil {
			return err
		}
	}
	return nil
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
	env := profileEnv(t)
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
