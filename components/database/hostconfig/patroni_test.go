package hostconfig_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// startHA starts a Patroni cluster of n members on loopback with the rendered configurations.
func startHA(t *testing.T, n int, synchronous bool) *pgtest.HA {
	t.Helper()
	_, ha := pgtest.StartHAFor(t, n, synchronous)
	_, err := ha.Client(ha.ConnInfo("read-write"), pgtest.LedgerTable)
	must(t, err)
	return ha
}

// lost are the acknowledged ids the current primary does not have.
func lost(t *testing.T, w *pgtest.Writer) []int64 {
	t.Helper()
	lost, err := w.Lost()
	must(t, err)
	return lost
}

// syncStandby waits until the leader names its synchronous standby, and returns it.
func syncStandby(t *testing.T, ha *pgtest.HA) *pgtest.Member {
	t.Helper()
	standby, err := ha.SyncStandby(time.Minute)
	must(t, err)
	return standby
}

// TestPatroniFailsOverWithoutLosingACommittedTransaction kills the primary's Patroni and PostgreSQL
// while a writer commits through the application's connection string, with synchronous replication
// on: a replica is promoted, the writer reaches it with no change of its connection string, no commit
// the writer saw is lost, the old primary, started again, rejoins as a replica of the new one (and a
// replica left on the old timeline is restarted by its follow check), and a backup from the old
// primary, now a standby, succeeds.
func TestPatroniFailsOverWithoutLosingACommittedTransaction(t *testing.T) {
	ha := startHA(t, 3, true)
	old := ha.Leader()
	syncStandby(t, ha)
	w := pgtest.StartWriter(ha, false)
	waitFor(t, "the writer's first commits", func() (bool, error) { return w.Count() > 0, nil })
	time.Sleep(2 * time.Second)

	killed := time.Now()
	old.Kill()
	at, err := w.CommitOn(old.Params.Port, killed, time.Minute)
	if err != nil {
		w.Stop()
		t.Fatalf("losing %s: %v\n%s", old.Name, err, ha.Logs())
	}
	failover := at.Sub(killed)
	time.Sleep(time.Second)
	w.Stop()
	leader := ha.Leader()
	if leader == nil || leader == old {
		t.Fatalf("the leader after the failover is %v", leader)
	}
	t.Logf("%s lost: %s took writes %.1f s later (TTL 10 s, loop 2 s); %d commits, %d failed attempts",
		old.Name, leader.Name, failover.Seconds(), len(w.Acked()), w.Failures())
	if lost := lost(t, w); len(lost) > 0 {
		t.Errorf("%d acknowledged commits are not on the new primary: %v", len(lost), lost)
	}

	// The old primary rejoins as a replica of the new one (pg_rewind, or a new copy).
	must(t, old.Start())
	_, said, err := ha.Rejoin(3, 3*time.Minute)
	if strings.TrimSpace(said) != "" {
		t.Logf("the follow checks:\n%s", said)
	}
	must(t, err)
	if l := ha.Leader(); l != leader {
		t.Errorf("the old primary's return changed the leader to %v", l)
	}
	if recovery, err := old.SQL("SELECT pg_is_in_recovery()"); err != nil || recovery != "t" {
		t.Errorf("the old primary did not rejoin as a replica: %q %v", recovery, err)
	}
	backupFrom(t, old)
}

// TestPatroniSwitchoverCostsNoTransactionBeyondARetry switches the primary over to a named replica
// through the REST API (as `db switchover` does) while a writer that retries a failed transaction
// commits: every transaction commits, none is lost, and a backup from a standby succeeds after it.
func TestPatroniSwitchoverCostsNoTransactionBeyondARetry(t *testing.T) {
	ha := startHA(t, 3, true)
	old := ha.Leader()
	// With synchronous replication only the synchronous standby may take over: it alone has every
	// commit (Patroni refuses another candidate).
	candidate := syncStandby(t, ha)
	w := pgtest.StartWriter(ha, true)
	waitFor(t, "the writer's first commits", func() (bool, error) { return w.Count() > 0, nil })
	started := time.Now()
	code, body, err := ha.REST(old, "POST", "/switchover", map[string]string{"leader": old.Name, "candidate": candidate.Name})
	must(t, err)
	if code != 200 {
		t.Fatalf("switchover: %d %s", code, body)
	}
	waitFor(t, "the candidate to lead", func() (bool, error) { return ha.Leader() == candidate, nil })
	switched := time.Since(started)
	_, err = w.CommitOn(old.Params.Port, started, time.Minute)
	must(t, err)
	w.Stop()
	t.Logf("switchover from %s to %s: %.1f s; %d commits, %d attempts failed and were made again",
		old.Name, candidate.Name, switched.Seconds(), len(w.Acked()), w.Failures())
	if lost := lost(t, w); len(lost) > 0 {
		t.Errorf("%d acknowledged commits are not on the new primary: %v", len(lost), lost)
	}
	// Every id the writer made was committed in order: none was skipped.
	for i, id := range w.Acked() {
		if id != int64(i+1) {
			t.Fatalf("commit %d has id %d: a transaction was lost rather than retried", i+1, id)
		}
	}
	_, err = ha.WaitHealthy(3, 2*time.Minute)
	must(t, err)
	if recovery, err := old.SQL("SELECT pg_is_in_recovery()"); err != nil || recovery != "t" {
		t.Errorf("the old primary is not a replica after the switchover: %q %v", recovery, err)
	}
	backupFrom(t, old)
}

// backupFrom takes a full backup on m, a standby: the backups follow the roles.
func backupFrom(t *testing.T, m *pgtest.Member) {
	t.Helper()
	out, err := m.PgBackRest("backup", "--type=full")
	if err != nil {
		t.Fatalf("a backup from the standby %s failed: %v", m.Name, err)
	}
	if !strings.Contains(out, "backup command end: completed successfully") {
		t.Errorf("the backup did not complete:\n%s", out)
	}
	if info, err := m.PgBackRest("info", "--output=json"); err != nil || !strings.Contains(info, `"type":"full"`) {
		t.Errorf("the repository lists no full backup: %v\n%s", err, info)
	}
}

// TestPatroniPrimaryWithoutItsStoreStopsTakingWrites stops a majority of the store's members: the
// primary can no longer renew its leader key, so it demotes itself rather than go on taking writes
// another member might also take, and the cluster elects a primary again once the store is back. Two
// database members and a witness, as a cluster of two hosts has its third voter on the monitoring host.
func TestPatroniPrimaryWithoutItsStoreStopsTakingWrites(t *testing.T) {
	ha := startHA(t, 2, false)
	leader := ha.Leader()
	if ha.Witness == nil {
		t.Fatal("a cluster of two members has no third voter")
	}
	lost := time.Now()
	stopped := []*pgtest.Etcd{ha.Witness, ha.Members[0].Etcd}
	for _, x := range stopped {
		x.Stop()
	}
	waitFor(t, "the primary to stop taking writes", func() (bool, error) {
		recovery, err := leader.SQL("SELECT pg_is_in_recovery()")
		return recovery == "t", err
	})
	t.Logf("without a majority of its store, %s stopped taking writes after %.1f s", leader.Name, time.Since(lost).Seconds())
	if _, err := ha.Client(ha.ConnInfo("read-write"), "INSERT INTO ledger (id) VALUES (1)"); err == nil {
		t.Error("a write was taken while no member held the leader key")
	}
	for _, x := range stopped {
		must(t, x.Start())
	}
	_, err := ha.WaitHealthy(2, 2*time.Minute)
	must(t, err)
	_, err = ha.Client(ha.ConnInfo("read-write"), "INSERT INTO ledger (id) VALUES (2)")
	must(t, err)
}

// TestTheClustersCommandsRefuseWhatIsUnsafe runs the rendered hipaa-db (what `platformctl db` runs on a
// host) against a synchronous cluster of three: status reports the members and the last failover; a
// switchover to a replica that is not the synchronous standby, to a stranger, or while a member is down
// is refused, as is a failover while the primary runs; a switchover without a target goes to the
// synchronous standby; and with Patroni paused and the primary gone, a failover promotes a replica.
func TestTheClustersCommandsRefuseWhatIsUnsafe(t *testing.T) {
	ha := startHA(t, 3, true)
	first, standby := ha.Leader(), syncStandby(t, ha)
	var other *pgtest.Member
	for _, m := range ha.Members {
		if m != first && m != standby {
			other = m
		}
	}
	var st struct {
		Synchronous  bool
		Strict       bool
		Members      []struct{ Member, Role, State string }
		Failovers    int
		LastFailover map[string]any
	}
	status := func() {
		t.Helper()
		out, errOut, code, err := other.DB("status")
		must(t, err)
		if code != 0 {
			t.Fatalf("status: exit %d: %s", code, errOut)
		}
		must(t, json.Unmarshal([]byte(out), &st))
	}
	status()
	if !st.Synchronous || !st.Strict || len(st.Members) != 3 || st.Failovers != 0 {
		t.Errorf("status: %+v", st)
	}
	refused := func(want string, args ...string) {
		t.Helper()
		out, errOut, code, err := other.DB(args...)
		must(t, err)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, %q%s; want 2 and %q", args, code, errOut, out, want)
		}
	}
	refused("is not the synchronous standby", "switchover", other.Name)
	refused("db-9 is not a replica of main", "switchover", "db-9")
	refused(first.Name+" is the running primary", "failover")
	refused("usage: hipaa-db", "restart")

	out, errOut, code, err := other.DB("switchover")
	must(t, err)
	if code != 0 || !strings.Contains(out, "switched over from "+first.Name+" to "+standby.Name) {
		t.Fatalf("switchover: exit %d: %s%s", code, out, errOut)
	}
	if ha.Leader() != standby {
		t.Fatalf("%v leads after the switchover, want %s", ha.Leader(), standby.Name)
	}
	_, err = ha.WaitHealthy(3, 2*time.Minute)
	must(t, err)
	status()
	if st.Failovers != 1 || st.LastFailover["New Leader"] != standby.Name {
		t.Errorf("status after the switchover: %d failovers, the last %v", st.Failovers, st.LastFailover)
	}

	other.Stop()
	refused("not every member runs", "switchover")
	must(t, other.Start())
	_, err = ha.WaitHealthy(3, 2*time.Minute)
	must(t, err)

	// Paused, Patroni promotes nobody by itself: the operator's failover does, once the primary is gone.
	_, err = other.Patronictl("pause", "main", "--wait")
	must(t, err)
	ha.Leader().Kill()
	waitFor(t, "the dead primary's leader key to expire", func() (bool, error) { return ha.Leader() == nil, nil })
	out, errOut, code, err = other.DB("failover")
	must(t, err)
	if code != 0 || !strings.Contains(out, "failed over to ") {
		t.Fatalf("failover: exit %d: %s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))
}
