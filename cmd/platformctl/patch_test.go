package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/pgtest"
	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/internal/project"
)

// TestDbPatchGoesHostByHostAndStopsAtOneThatDoesNotReturn runs platformctl db patch for prod against a
// Patroni cluster of three members on loopback, the shape of prod's. Each command reaches a member as
// Systems Manager would, running its rendered hipaa-db; installing a host's updates is its Patroni and
// PostgreSQL stopped and started again, as the reboot after an update would. Only that, the Nagios
// announcement and the alarms' actions are stood in for.
//
// A replica that does not come back stops the run before any other host is touched, and the announcement
// is withdrawn so that it alarms; a cluster with a member down is not patched at all; a healthy one
// is patched replica, backup host, then the primary after a switchover, each host starting only once
// the one before streams again, while a writer that retries a failed transaction loses no commit.
func TestDbPatchGoesHostByHostAndStopsAtOneThatDoesNotReturn(t *testing.T) {
	_, ha := pgtest.StartHAFor(t, 3, true)
	if _, err := ha.SyncStandby(time.Minute); err != nil {
		t.Fatal(err)
	}
	member := func(host string) *pgtest.Member { return ha.Member(strings.TrimPrefix(host, "hipaa-prod-")) }
	var events []string
	returns := true
	patch := func(wait string) (int, string, string) {
		events = nil
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.onHost = func(_ context.Context, target dbTarget, host string, command []string) (string, string, int, error) {
			if target.Stack != "prod" || target.Region != "us-east-1" {
				t.Errorf("asked %s of %+v", host, target)
			}
			if host == "hipaa-prod-monitoring" {
				if command[0] != monitoring.DowntimeCommand || len(command) < 4 {
					t.Errorf("asked the monitoring host to run %v", command)
				}
				events = append(events, "downtime "+command[1])
				return "", "", 0, nil
			}
			if command[0] != hipaaDB {
				t.Errorf("asked %s to run %v", host, command)
			}
			if command[1] == "switchover" {
				events = append(events, "switchover")
			}
			stdout, stderr, code, err := member(host).DB(command[1:]...)
			named := strings.NewReplacer(`"db-`, `"hipaa-prod-db-`)
			return named.Replace(stdout), named.Replace(stderr), code, err
		}
		d.patchHost = func(_ context.Context, _ dbTarget, host string) error {
			// What the cluster looked like when this host's turn came: who led, and whom it streamed to
			// (its own pg_stat_replication).
			l := ha.Leader()
			if l == nil {
				return fmt.Errorf("no leader when %s's turn came", host)
			}
			out, err := l.SQL("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")
			if err != nil {
				return err
			}
			events = append(events, "patch "+host+" leader="+l.Name+" streaming="+strings.Join(strings.Fields(out), ","))
			m := member(host)
			m.Stop()
			if returns {
				return m.Start()
			}
			return nil
		}
		d.muteAlarms = func(_ context.Context, _ dbTarget, prefixes []string) ([]string, error) {
			events = append(events, "mute "+strings.Join(prefixes, " "))
			return []string{"hipaa-prod-db-0-status"}, nil
		}
		d.unmuteAlarms = func(_ context.Context, _ dbTarget, names []string) error {
			events = append(events, "unmute "+strings.Join(names, " "))
			return nil
		}
		code := run(d, []string{"--dir", "../..", "db", "patch", "--stack", "prod", "--wait", wait})
		return code, out.String(), errb.String()
	}
	leader := func() string {
		if l := ha.Leader(); l != nil {
			return l.Name
		}
		return "none"
	}
	if l := leader(); l != "db-0" {
		t.Fatalf("the cluster starts led by %s, want db-0", l)
	}

	// db-2 does not come back: nothing after it is patched, the primary does not move, and the
	// announcement ends so that db-2 alarms.
	returns = false
	code, out, errOut := patch("20s")
	t.Log("\n" + out + errOut)
	if code != exitFailed || !strings.Contains(errOut, "hipaa-prod-db-2 did not return to health within 20s") ||
		!strings.Contains(errOut, "refusing to go on, not patched: hipaa-prod-db-1, hipaa-prod-db-0") {
		t.Errorf("a replica that does not return: exit %d: %s", code, errOut)
	}
	if len(events) != 5 || events[0] != "downtime start" || !strings.HasPrefix(events[1], "mute hipaa-prod-db-promoted hipaa-prod-db-0- ") ||
		!strings.HasPrefix(events[2], "patch hipaa-prod-db-2 ") || events[3] != "unmute hipaa-prod-db-0-status" || events[4] != "downtime end" {
		t.Errorf("a replica that does not return: events %q", events)
	}
	if l := leader(); l != "db-0" {
		t.Errorf("the primary moved to %s though the run stopped before it", l)
	}

	// With db-2 still down, a run does not start.
	code, _, errOut = patch("20s")
	if code != exitBadInput || !strings.Contains(errOut, "hipaa-prod-db-2 is not a member (its Patroni is not running); patching starts only with every member running") || len(events) != 0 {
		t.Errorf("a cluster with a member down: exit %d: %s (events %q)", code, errOut, events)
	}

	returns = true
	if err := member("hipaa-prod-db-2").Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := ha.WaitHealthy(3, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	// The application writes throughout, retrying a failed transaction as a client would.
	if _, err := ha.Client(ha.ConnInfo("read-write"), pgtest.LedgerTable); err != nil {
		t.Fatal(err)
	}
	w := pgtest.StartWriter(ha, true)
	code, out, errOut = patch("2m")
	w.Stop()
	t.Log("\n" + out + errOut)
	if code != exitOK || !strings.Contains(out, "patching prod in this order: hipaa-prod-db-2, hipaa-prod-db-1, hipaa-prod-db-0 (after a switchover)") ||
		!strings.Contains(out, "patched 3 hosts of prod; the primary is hipaa-prod-db-") {
		t.Fatalf("a healthy cluster: exit %d:\n%s%s", code, out, errOut)
	}
	var turns []string
	for _, e := range events {
		if !strings.HasPrefix(e, "patch ") {
			turns = append(turns, e)
			continue
		}
		f := strings.Fields(e)
		turns = append(turns, "patch "+f[1])
		// When a host's turn comes, the leader streams to both other members: the one before is back.
		lead := strings.TrimPrefix(f[2], "leader=")
		var others []string
		for _, m := range []string{"db-0", "db-1", "db-2"} {
			if m != lead {
				others = append(others, m)
			}
		}
		if f[3] != "streaming="+strings.Join(others, ",") {
			t.Errorf("%s's turn came with %s", f[1], strings.Join(f[2:], " "))
		}
		if "hipaa-prod-"+lead == f[1] {
			t.Errorf("the primary was patched while it led: %s", e)
		}
	}
	want := []string{"downtime start", "mute", "patch hipaa-prod-db-2", "patch hipaa-prod-db-1", "switchover", "patch hipaa-prod-db-0", "unmute", "downtime end"}
	if len(turns) != len(want) {
		t.Fatalf("events %q, want %q", events, want)
	}
	for i := range want {
		if !strings.HasPrefix(turns[i], want[i]) {
			t.Errorf("event %d is %q, want %q (all: %q)", i, turns[i], want[i], events)
		}
	}
	if l := leader(); l == "db-0" {
		t.Errorf("db-0 still leads after its turn")
	}
	// No acknowledged commit lost, and none skipped: what failed (at the switchover) was made again.
	lost, err := w.Lost()
	if err != nil || len(lost) > 0 {
		t.Errorf("acknowledged commits not on the primary after patching: %v %v", lost, err)
	}
	for i, id := range w.Acked() {
		if id != int64(i+1) {
			t.Fatalf("commit %d has id %d: a transaction was lost rather than retried", i+1, id)
		}
	}
	t.Logf("during the patching: %d commits, %d attempts failed and were made again", len(w.Acked()), w.Failures())
	if _, err := ha.WaitHealthy(3, time.Minute); err != nil {
		t.Error(err)
	}
}

// TestDbPatchRefusesWhatItCannotDoBeforeAskingAnyHost: a bad --wait, an account stack and a missing
// --stack are refused with exit 2 before any host is asked or anything is announced.
func TestDbPatchRefusesWhatItCannotDoBeforeAskingAnyHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stack", "prod", "--wait", "0s"}, "--wait must be a positive duration, such as 15m; got 0s"},
		{[]string{"--stack", "account-prod"}, "account-prod is an account stack"},
		{[]string{}, "--stack is required; the stacks are"},
	} {
		var out, errb bytes.Buffer
		d := testDeps(&out, &errb, nil)
		d.onHost = func(_ context.Context, _ dbTarget, host string, command []string) (string, string, int, error) {
			t.Errorf("%v asked %s to run %v", tc.args, host, command)
			return "", "", 0, fmt.Errorf("no host")
		}
		if code := run(d, append([]string{"--dir", "../..", "db", "patch"}, tc.args...)); code != exitBadInput || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// status is a cluster's hipaa-db status from members given as name=role/state/lag, and the replicas
// the primary streams to.
func status(t *testing.T, streaming []string, members ...string) clusterStatus {
	t.Helper()
	raw := map[string]any{"cluster": "main", "streaming": streaming}
	var list []map[string]any
	for _, m := range members {
		name, rest, _ := strings.Cut(m, "=")
		f := strings.Split(rest, "/")
		entry := map[string]any{"Member": name, "Role": f[0], "State": f[1]}
		if len(f) > 2 {
			entry["Lag in MB"] = json.Number(f[2])
		}
		list = append(list, entry)
	}
	raw["members"] = list
	b, _ := json.Marshal(raw)
	s, err := decodeStatus("a test", string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestThePatchOrderAndItsGate: after a failover to the backup host the primary is still last; a
// replica counts as returned only when the primary streams to it within the lag alarm's threshold.
func TestThePatchOrderAndItsGate(t *testing.T) {
	t.Parallel()
	healthy := []string{"h-0=Leader/running", "h-1=Sync Standby/streaming/0", "h-2=Replica/running/3"}
	got := patchOrder(status(t, nil, "h-0=Replica/running/0", "h-1=Leader/running", "h-2=Replica/running/0"), "h-1")
	if fmt.Sprint(got) != "[{h-0 false} {h-2 false} {h-1 true}]" {
		t.Errorf("the backup host leading: order %v, want the replicas, then the backup host after a switchover", got)
	}
	got = patchOrder(status(t, nil, healthy...), "h-1")
	if fmt.Sprint(got) != "[{h-2 false} {h-1 false} {h-0 true}]" {
		t.Errorf("order %v, want h-2, the backup host h-1, then h-0 after a switchover", got)
	}
	target := dbTarget{Stack: "unit", Hosts: []string{"h-0", "h-1", "h-2"}}
	for _, tc := range []struct {
		name      string
		streaming []string
		members   []string
		want      string
	}{
		{"back", []string{"h-1", "h-2"}, healthy, ""},
		{"running but not streaming", []string{"h-1"}, healthy, "h-2 is running but not streaming from the primary (which streams to h-1)"},
		{"the primary could not say", nil, healthy, "the primary could not say which replicas stream from it"},
		{"behind", []string{"h-1", "h-2"}, []string{healthy[0], healthy[1], "h-2=Replica/running/2048"}, "h-2 lags 2048 MB, more than the alarm's 1024 MB"},
		{"gone", []string{"h-1"}, healthy[:2], "h-2 is not a member (its Patroni is not running)"},
		{"starting", []string{"h-1"}, []string{healthy[0], healthy[1], "h-2=Replica/starting"}, "h-2 is starting"},
		{"no leader", []string{"h-1", "h-2"}, []string{"h-0=Replica/running/0", healthy[1], healthy[2]}, "no member leads"},
		{"leads", []string{"h-1"}, []string{"h-0=Replica/running/0", healthy[1], "h-2=Leader/running"}, "h-2 leads: it was to be a replica"},
	} {
		if got := unhealthy(status(t, tc.streaming, tc.members...), target, "h-2"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestThePatchWorkflowCoversEveryEnvironmentWithReplicas: every environment whose database has
// replicas (and so Patroni) is in the patch workflow's matrix; the window patches the others' one host.
func TestThePatchWorkflowCoversEveryEnvironmentWithReplicas(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	workflow, err := os.ReadFile("../../.github/workflows/patch.yml")
	if err != nil {
		t.Fatal(err)
	}
	names, err := p.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range names {
		cfg, _, err := p.StackConfig(stack)
		if err != nil {
			t.Fatal(err)
		}
		if cfg[p.Name+":accountBaseline"] == "true" || cfg[p.Name+":dbReplicas"] == "0" {
			continue
		}
		if !regexp.MustCompile(`stack: \[[^\]]*\b` + stack + `\b`).Match(workflow) {
			t.Errorf("%s has replicas but is not in the patch workflow's matrix", stack)
		}
	}
}
