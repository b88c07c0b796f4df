package patching

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// patching is the component under test, run as a program of its own.
var patching = offlinetest.For(NewPatching, "hipaa-unit-patching")

func validArgs() *PatchingArgs {
	return &PatchingArgs{Group: "hipaa-unit", InstallHosts: []string{"hipaa-unit-monitoring"}, Tags: map[string]string{"Environment": "unit"}}
}

func TestTheGroupGetsDebiansSecurityUpdatesAndReportsCompliance(t *testing.T) {
	t.Parallel()
	rs := patching.MustRun(t, validArgs())
	b := offlinetest.One(t, rs, "aws:ssm/patchBaseline:PatchBaseline")
	if b.String("operatingSystem") != "DEBIAN" || b.Value("approvalRules.0.enableNonSecurity") != false ||
		b.String("approvalRules.0.patchFilters.0.key") != "PRODUCT" || b.String("approvalRules.0.patchFilters.0.values.0") != DebianProduct {
		t.Errorf("baseline: %v; want Debian 12's security updates only", b.Inputs)
	}
	if b.Value("approvalRules.0.approveAfterDays") != nil {
		t.Errorf("the baseline delays approval, which Patch Manager refuses for Debian")
	}
	g := offlinetest.One(t, rs, "aws:ssm/patchGroup:PatchGroup")
	if g.String("patchGroup") != "hipaa-unit" || g.String("baselineId") != b.ID {
		t.Errorf("patch group %q gives baseline %q, want hipaa-unit the Debian baseline %s", g.String("patchGroup"), g.String("baselineId"), b.ID)
	}
	scan := offlinetest.One(t, rs, "aws:ssm/association:Association")
	if scan.String("name") != "AWS-RunPatchBaseline" || scan.String("parameters.Operation") != "Scan" || scan.String("scheduleExpression") != DefaultScan ||
		scan.String("targets.0.key") != "tag:"+GroupTag || scan.String("targets.0.values.0") != "hipaa-unit" {
		t.Errorf("compliance scan: %v; want AWS-RunPatchBaseline Scan of the group, daily", scan.Inputs)
	}
}

func TestTheWindowInstallsOnTheNamedHostsOneAtATime(t *testing.T) {
	t.Parallel()
	rs := patching.MustRun(t, validArgs())
	w := offlinetest.One(t, rs, "aws:ssm/maintenanceWindow:MaintenanceWindow")
	if w.String("schedule") != DefaultWindow || w.Value("allowUnassociatedTargets") != false || w.Value("cutoff") != float64(1) {
		t.Errorf("window: %v", w.Inputs)
	}
	target := offlinetest.One(t, rs, "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget")
	var keys []string
	for i := range 2 {
		at := "targets." + strconv.Itoa(i) + "."
		keys = append(keys, target.String(at+"key")+"="+target.String(at+"values.0"))
	}
	if want := []string{"tag:PatchGroup=hipaa-unit", "tag:Name=hipaa-unit-monitoring"}; !slices.Equal(keys, want) {
		t.Errorf("window target %v, want %v", keys, want)
	}
	task := offlinetest.One(t, rs, "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")
	params := map[string]string{}
	for _, p := range task.Value("taskInvocationParameters.runCommandParameters.parameters").([]any) {
		m := p.(map[string]any)
		params[m["name"].(string)] = m["values"].([]any)[0].(string)
	}
	if task.String("taskArn") != "AWS-RunPatchBaseline" || task.String("maxConcurrency") != "1" || task.String("maxErrors") != "0" ||
		params["Operation"] != "Install" || params["RebootOption"] != "RebootIfNeeded" {
		t.Errorf("install task: %v %v; want AWS-RunPatchBaseline Install, one host at a time, stopping at an error", task.Inputs, params)
	}

	a := validArgs()
	a.InstallHosts = nil
	if n := len(offlinetest.Of(patching.MustRun(t, a), "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")); n != 0 {
		t.Errorf("%d install tasks with no host to install on", n)
	}
}

func TestBadPatchingArgsNameTheField(t *testing.T) {
	t.Parallel()
	a := validArgs()
	a.Group, a.Window = "", "0 5 * * 0"
	patching.Refused(t, a, `patching "hipaa-unit-patching": Group is required; Window: "0 5 * * 0" is not a cron expression of six fields`)
}

// TestThePatchWorkflowOpensWithTheDefaultWindow: the workflow that patches the clusters' database hosts
// runs when the default window opens, in GitHub's five-field cron.
func TestThePatchWorkflowOpensWithTheDefaultWindow(t *testing.T) {
	t.Parallel()
	f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(DefaultWindow, "cron("), ")"))
	days := map[string]string{"SUN": "0", "MON": "1", "TUE": "2", "WED": "3", "THU": "4", "FRI": "5", "SAT": "6"}
	if len(f) != 6 || f[2] != "?" || days[f[4]] == "" {
		t.Fatalf("DefaultWindow %q: want minutes, hours, ?, month, one day of the week, year", DefaultWindow)
	}
	want := fmt.Sprintf(`cron: "%s %s * %s %s"`, f[0], f[1], f[3], days[f[4]])
	workflow, err := os.ReadFile("../../.github/workflows/patch.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(workflow), want) {
		t.Errorf("the patch workflow does not run at DefaultWindow %s (%s):\n%s", DefaultWindow, want, workflow)
	}
}
