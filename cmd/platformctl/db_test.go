package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/pgtest"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func TestDbRefusesABadRequestBeforeAskingAnyHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "status"}, "--stack is required; the stacks are"},
		{[]string{"db", "status", "--stack", "staging"}, `unknown stack "staging"`},
		{[]string{"db", "status", "--stack", "account-prod"}, "account-prod is an account stack"},
		{[]string{"db", "switchover", "--stack", "prod", "--to", "hipaa-prod-db-7"}, `--to "hipaa-prod-db-7" is not a database host of prod; its hosts are hipaa-prod-db-0, hipaa-prod-db-1, hipaa-prod-db-2`},
		{[]string{"db", "restart"}, `unknown command "restart" for "platformctl db"`},
		{[]string{"rotate", "--stack", "prod"}, `--what "": want one of app, monitoring, ca`},
		{[]string{"rotate", "--stack", "prod", "--what", "cert"}, `--what "cert": want one of app, monitoring, ca`},
		{[]string{"rotate", "--what", "ca"}, "--stack is required; the stacks are"},
		{[]string{"rotate", "--what", "app"}, "--stack is required; the stacks are"},
	} {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.onHost = func(context.Context, dbTarget, string, []string) (string, string, int, error) {
			t.Errorf("%v asked a host", tc.args)
			return "", "", 0, nil
		}
		if code := run(d, append([]string{"--dir", "../.."}, tc.args...)); code != exitBadInput || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// TestDbOperatesTheClusterThroughItsHosts runs platformctl db for the dev stack against a Patroni
// cluster of two members and a witness on loopback, the shape of dev's: each command reaches a member
// as Systems Manager would, running the member's rendered hipaa-db (dev's host names are the loopback
// members' names with the stack's prefix). A refusal on the host is platformctl's exit 2; a host that
// cannot be reached is passed over for the next.
func TestDbOperatesTheClusterThroughItsHosts(t *testing.T) {
	pgtest.NeedHA(t)
	secrets, awsEnv := pgtest.StartSecrets(t)
	env, err := pgtest.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ha, err := env.StartHA(2, true, pgtest.WithRotation(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ha.Close)
	if _, err := ha.SyncStandby(time.Minute); err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	var asked []string
	db := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.onHost = func(_ context.Context, target dbTarget, host string, command []string) (string, string, int, error) {
			asked = append(asked, host)
			if target.Stack != "dev" || target.Region != "us-east-1" || command[0] != hipaaDB {
				t.Errorf("asked %s of %+v to run %v", host, target, command)
			}
			if gone[host] {
				return "", "", 0, errors.New("Undeliverable")
			}
			m := ha.Member(strings.TrimPrefix(host, "hipaa-dev-"))
			for i := range command {
				command[i] = strings.TrimPrefix(command[i], "hipaa-dev-")
			}
			return m.DBWith(awsEnv, command[1:]...)
		}
		code := run(d, append([]string{"--dir", "../.."}, args...))
		return code, out.String(), errb.String()
	}

	code, out, errOut := db("db", "status", "--stack", "dev")
	if code != exitOK || !strings.Contains(out, "cluster main, synchronous replication (asked on hipaa-dev-db-0)") ||
		!strings.Contains(out, "Leader") || !strings.Contains(out, "Sync Standby") || !strings.Contains(out, "no failover or switchover") ||
		!strings.Contains(out, "the primary streams to db-1\n") {
		t.Errorf("status: exit %d:\n%s%s", code, out, errOut)
	}
	if code, _, errOut := db("db", "failover", "--stack", "dev"); code != exitBadInput || !strings.Contains(errOut, "failover dev on hipaa-dev-db-0: db-0 is the running primary") {
		t.Errorf("failover with a running primary: exit %d: %s", code, errOut)
	}
	code, out, errOut = db("db", "switchover", "--stack", "dev", "--to", "hipaa-dev-db-1")
	if code != exitOK || !strings.Contains(out, "switched over from db-0 to db-1") {
		t.Fatalf("switchover: exit %d:\n%s%s", code, out, errOut)
	}
	if _, err := ha.WaitHealthy(2, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	gone["hipaa-dev-db-0"], asked = true, nil
	code, out, errOut = db("db", "status", "--stack", "dev")
	if code != exitOK || !strings.Contains(out, "asked on hipaa-dev-db-1") || !strings.Contains(out, "(1 in all): to db-1") {
		t.Errorf("status with db-0 unreachable: exit %d:\n%s%s", code, out, errOut)
	}
	if strings.Join(asked, " ") != "hipaa-dev-db-0 hipaa-dev-db-1" {
		t.Errorf("asked %v, want db-0 then db-1", asked)
	}
	t.Log("\n" + out)

	// rotate asks the first host that answers who leads, and rotates there (Patroni names a member as the
	// program names its host; here, without the stack's prefix); a second rotation within the overlap is
	// refused.
	delete(gone, "hipaa-dev-db-0")
	asked = nil
	code, out, errOut = db("rotate", "--stack", "dev", "--what", "app")
	if code != exitOK || !strings.Contains(out, "rotated app: the secret names app_b") || !strings.Contains(out, "(on db-1)") ||
		secrets.Puts(pgtest.AppSecret) != 1 || strings.Join(asked, " ") != "hipaa-dev-db-0 db-1" {
		t.Errorf("rotate: exit %d, asked %v:\n%s%s", code, asked, out, errOut)
	}
	if code, _, errOut := db("rotate", "--stack", "dev", "--what", "app"); code != exitBadInput || !strings.Contains(errOut, "rotate app of dev on db-1: the last rotation's overlap runs until") {
		t.Errorf("a second rotation within the overlap: exit %d: %s", code, errOut)
	}
	if code, out, errOut := db("rotate", "--stack", "dev", "--what", "app", "--complete"); code != exitOK || !strings.Contains(out, "completed: app_a admits no new connection") {
		t.Errorf("rotate --complete: exit %d:\n%s%s", code, out, errOut)
	}
}

// TestRotateReachesTheOneHostOfAClusterWithoutReplicas rotates the application credential of a stack
// with hipaa:dbReplicas 0, whose cluster is one host with no Patroni: platformctl asks no one who leads and runs hipaa-db rotate on
// that host (a real fixed primary on loopback, its rendered hipaa-db), and the host's refusal within the
// overlap is platformctl's exit 2.
func TestRotateReachesTheOneHostOfAClusterWithoutReplicas(t *testing.T) {
	if missing := pgtest.Missing(); missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install %s (see .ci/run)", missing)
		}
		t.Skip("missing " + missing)
	}
	secrets, awsEnv := pgtest.StartSecrets(t)
	env, err := pgtest.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	primary, err := env.StartPrimary(pgtest.WithRotation(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := projectWith(t, "test", "config:\n  hipaa:dbReplicas: 0\n")
	var asked []string
	rotate := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.onHost = func(_ context.Context, target dbTarget, host string, command []string) (string, string, int, error) {
			asked = append(asked, host+" "+strings.Join(command, " "))
			if target.Stack != "test" || host != "hipaa-test-db-0" || command[0] != hipaaDB {
				t.Errorf("asked %s of %+v to run %v", host, target, command)
			}
			return primary.DBWith(awsEnv, command[1:]...)
		}
		code := run(d, append([]string{"--dir", dir, "rotate", "--stack", "test"}, args...))
		return code, out.String(), errb.String()
	}
	code, out, errOut := rotate("--what", "app")
	if code != exitOK || !strings.Contains(out, "rotated app: the secret names app_b") || !strings.Contains(out, "(on hipaa-test-db-0)") || secrets.Puts(pgtest.AppSecret) != 1 {
		t.Errorf("rotate: exit %d:\n%s%s", code, out, errOut)
	}
	if code, _, errOut := rotate("--what", "app"); code != exitBadInput || !strings.Contains(errOut, "rotate app of test on hipaa-test-db-0: the last rotation's overlap runs until") {
		t.Errorf("a second rotation within the overlap: exit %d: %s", code, errOut)
	}
	if want := "hipaa-test-db-0 " + hipaaDB + " rotate app"; len(asked) != 2 || asked[0] != want || asked[1] != want {
		t.Errorf("asked %q; want hipaa-db rotate on the one host, twice, and nothing else", asked)
	}
}

// TestDbDrillRaisesTheStacksDrillGroup: the drill of any environment, one host or many, is its drill
// group raised to one; a drill already running is refused with exit 2.
func TestDbDrillRaisesTheStacksDrillGroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stack   string
		running bool
		code    int
		want    string
	}{
		{"prod", false, exitOK, "hipaa-prod-db-drill raised to one host"},
		{"qa", true, exitBadInput, "a restore drill of qa is running"},
	} {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		var raised string
		d.startDrill = func(_ context.Context, target dbTarget, group string) error {
			if tc.running {
				return refusal.New("a restore drill of %s is running", target.Stack)
			}
			raised = group
			return nil
		}
		code := run(d, []string{"--dir", "../..", "db", "drill", "--stack", tc.stack})
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%s: exit %d, %q%q; want %d and %q", tc.stack, code, out.String(), errb.String(), tc.code, tc.want)
		}
		if !tc.running && raised != "hipaa-prod-db-drill" {
			t.Errorf("raised %q", raised)
		}
	}
}

// TestTheCARotatesInThreeStepsOfTheStackFile takes the CA rotation's three steps on a stack file: each
// writes the next generations, keeps the file's other settings and comments, and says what to do; a
// fourth begins a new rotation, and a bad list is refused naming the key.
func TestTheCARotatesInThreeStepsOfTheStackFile(t *testing.T) {
	dir := projectWith(t, "qa", "# qa: the quality stack\nconfig:\n  hipaa:dbReplicas: 2 # two replicas\n")
	file := filepath.Join(dir, "Pulumi.qa.yaml")
	rotate := func() (string, string, int) {
		var out, errb bytes.Buffer
		code := runArgs([]string{"--dir", dir, "rotate", "--stack", "qa", "--what", "ca"}, &out, &errb)
		return out.String(), errb.String(), code
	}
	generations := func() []string {
		p, err := project.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := p.StackConfig("qa")
		if err != nil {
			t.Fatal(err)
		}
		var gens []string
		if err := json.Unmarshal([]byte(cfg["hipaa:dbCAGenerations"]), &gens); err != nil {
			t.Fatalf("hipaa:dbCAGenerations = %q: %v", cfg["hipaa:dbCAGenerations"], err)
		}
		return gens
	}
	if g := generations(); !slices.Equal(g, []string{"1"}) {
		t.Fatalf("before: %v, want the default [1]", g)
	}
	out, errOut, code := rotate()
	g := generations()
	if code != 0 || len(g) != 2 || g[0] != "1" || len(g[1]) != 12 || !strings.Contains(out, "step trust") || !strings.Contains(out, "run this command again") {
		t.Fatalf("trust: exit %d, %v, %s%s", code, g, out, errOut)
	}
	added := g[1]
	if out, errOut, code := rotate(); code != 0 || !slices.Equal(generations(), []string{added, "1"}) || !strings.Contains(out, "step issue") {
		t.Fatalf("issue: exit %d, %v, %s%s", code, generations(), out, errOut)
	}
	if out, errOut, code := rotate(); code != 0 || !slices.Equal(generations(), []string{added}) || !strings.Contains(out, "step drop") || !strings.Contains(out, "ends the rotation") {
		t.Fatalf("drop: exit %d, %v, %s%s", code, generations(), out, errOut)
	}
	content, _ := os.ReadFile(file)
	for _, want := range []string{"# qa: the quality stack", "hipaa:dbReplicas: 2 # two replicas", `hipaa:dbCAGenerations: ["` + added + `"]`} {
		if !strings.Contains(string(content), want) {
			t.Errorf("the stack file lacks %q after the rotation:\n%s", want, content)
		}
	}
	// The next rotation begins from the new generation; within the same minute it cannot be named.
	if _, errOut, code := rotate(); code != exitBadInput || !strings.Contains(errOut, "is not older than") {
		t.Errorf("a new rotation in the same minute: exit %d, %s", code, errOut)
	}
	if err := os.WriteFile(file, []byte("config:\n  hipaa:dbCAGenerations: [a, b, c]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := rotate(); code != exitBadInput || !strings.Contains(errOut, "hipaa:dbCAGenerations") || !strings.Contains(errOut, "want one, or two") {
		t.Errorf("three generations: exit %d, %s", code, errOut)
	}
}
