package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestPlanOfProdPrintsItsQuotasAndModeledStandUp: prod's largest use of the Standard vCPU quota is
// counted from its hosts and its groups at their refresh surge, above AWS's default of 5, and its modeled
// stand-up time is printed with its path and what dominates it, said to be a model.
func TestPlanOfProdPrintsItsQuotasAndModeledStandUp(t *testing.T) {
	t.Parallel()
	out, errOut, code := platformctl(t, "plan", "--stack", "prod")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// prod: three r6i.2xlarge database hosts (24 vCPUs), an m6i.large Nagios host (2), at most 10
	// c6i.2xlarge engines (8 each) and 12 m6i.xlarge web hosts (4 each), each group doubled in a refresh,
	// and the restore drill's r6i.2xlarge host (8) while a drill runs.
	want := 3*8 + 2 + 2*10*8 + 2*12*4 + 8
	for _, s := range []string{
		"RAISE  " + strconv.Itoa(want) + " of    5  ec2                  L-1216C47A",
		"L-FE5A380F  NAT gateways per Availability Zone",
		"Modeled time to stand the stack up from empty:",
		"It is a model, not a measurement",
		"aws:lb/loadBalancer:LoadBalancer",
		"dominated by:",
		"subnets in us-east-1a, us-east-1b, us-east-1c",
		"com.amazonaws.us-east-1.ssm",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("plan lacks %q:\n%s", s, out)
		}
	}
}

// TestPlanAddsUpTheStacksOfOneAccount: dev, test and qa share the non-production account and region.
func TestPlanAddsUpTheStacksOfOneAccount(t *testing.T) {
	t.Parallel()
	out, errOut, code := platformctl(t, "plan", "--stack", "dev", "--stack", "test", "--stack", "qa")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	together := out[strings.Index(out, "Together (dev, test, qa)"):]
	if !strings.Contains(together, "ok       3 of    5  vpc                  L-F678F1CE  VPCs per Region") {
		t.Errorf("three stacks' VPCs are not added up:\n%s", together)
	}
}

func TestPlanRefusesWithoutAStackOrAnUnknownOne(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"plan":                            "--stack is required",
		"plan --stack nope":               "nope",
		"plan --account staging":          `--account "staging": accounts.yaml names the accounts nonprod, prod`,
		"plan --account prod --stack dev": "give --stack or --account, not both",
	} {
		if _, errOut, code := platformctl(t, strings.Fields(args)...); code != exitBadInput || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, %s; want %q", args, code, errOut, want)
		}
	}
}

// TestPlanOfAnAccountAddsUpItsStacks: --account nonprod plans the account stack and the three
// environments that accounts.yaml puts in it.
func TestPlanOfAnAccountAddsUpItsStacks(t *testing.T) {
	t.Parallel()
	out, errOut, code := platformctl(t, "plan", "--account", "nonprod")
	if code != exitOK || !strings.Contains(out, "Together (account-nonprod, dev, test, qa)") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
}
