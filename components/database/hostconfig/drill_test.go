package hostconfig_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// TestRestoreDrill restores a real backup and fails loudly on a damaged one: it runs the rendered drill
// against a real repository (the newest backup restored to a few seconds ago, PostgreSQL answering,
// amcheck on the indexes, the canary row found, the metrics and the evidence record written); restores
// the backup before a newer one that ended after the target, and refuses a target that precedes every
// backup; then, with one of the backup's files damaged in the repository, the drill fails, says where,
// publishes its failure and records it.
func TestRestoreDrill(t *testing.T) {
	env, cluster := startCluster(t, nil)
	_, err := cluster.Replica.PgBackRest("backup", "--type=full")
	must(t, err)
	// Two canary rows ten seconds apart (the rendered canary, which the replica skips); the drill aims at
	// five seconds ago, between them.
	must(t, env.Canary(cluster.Primary, 10*time.Second, cluster.Replica))

	run, err := env.Drill(cluster.Replica, env.TestDrill(5))
	must(t, err)
	if run.Err != nil {
		t.Fatalf("the drill failed: %v\n%s", run.Err, run.Output)
	}
	for _, want := range []string{"restored and answering after", "B-tree indexes intact", "the canary row for", "drill passed"} {
		if !strings.Contains(run.Output, want) {
			t.Errorf("the drill's output lacks %q:\n%s", want, run.Output)
		}
	}
	for _, want := range []string{"--metric-name DrillSucceeded", "--value 1", "--metric-name RestoreSeconds",
		"s3 cp", "s3://hipaa-test-logs/drills/db/", "--sse aws:kms --sse-kms-key-id alias/hipaa-test-logs"} {
		if !strings.Contains(run.Calls, want) {
			t.Errorf("the drill's AWS calls lack %q:\n%s", want, run.Calls)
		}
	}
	if checks, _ := run.Evidence["checks"].(map[string]any); run.Evidence["result"] != "passed" || checks["canary"] != true || checks["amcheck"] != true {
		t.Errorf("the evidence does not record a passed drill: %v", run.Evidence)
	}
	t.Logf("the drill: %v s to restore, %v s in all", run.Evidence["restoreSeconds"], run.Evidence["totalSeconds"])

	// A second backup, newer than the drill's target: recovery cannot stop before a backup's end, so the
	// drill restores the first (canary rows after the second give recovery a commit past the target).
	first := newestBackup(t, cluster.Replica)
	_, err = cluster.Replica.PgBackRest("backup", "--type=full")
	must(t, err)
	must(t, env.Canary(cluster.Primary, 10*time.Second, cluster.Replica))
	run, err = env.Drill(cluster.Replica, env.TestDrill(20))
	must(t, err)
	if run.Err != nil || !strings.Contains(run.Output, "restoring backup "+first+" ") {
		t.Errorf("with the newest backup ended after the target, the drill did not restore %s: %v\n%s", first, run.Err, run.Output)
	}
	// A target before every backup's end: refused, saying when a drill can run.
	run, err = env.Drill(cluster.Replica, env.TestDrill(3600))
	must(t, err)
	if run.Err == nil || !strings.Contains(run.Output, "no backup ended before the target") || !strings.Contains(run.Output, "DRILL FAILED at step 'choose'") {
		t.Errorf("a drill with no backup before its target: %v\n%s", run.Err, run.Output)
	}

	// A file of the backup's data directory, damaged in the repository.
	key, err := env.S3().Corrupt("/pg_data/base/")
	must(t, err)
	run, err = env.Drill(cluster.Replica, env.TestDrill(5))
	must(t, err)
	if run.Err == nil {
		t.Fatalf("the drill passed with %s damaged:\n%s", key, run.Output)
	}
	if !strings.Contains(run.Output, "DRILL FAILED at step 'verify'") {
		t.Errorf("the drill does not say where it failed:\n%s", run.Output)
	}
	if !strings.Contains(run.Calls, "--metric-name DrillSucceeded --unit Count --dimensions Cluster=db --value 0") {
		t.Errorf("the drill did not publish its failure:\n%s", run.Calls)
	}
	if run.Evidence["result"] != "failed" || run.Evidence["failedStep"] != "verify" {
		t.Errorf("the evidence does not record the failure: %v", run.Evidence)
	}
}

// newestBackup is the label of the repository's newest backup.
func newestBackup(t *testing.T, s *pgtest.Server) string {
	t.Helper()
	out, err := s.PgBackRest("info", "--output=json")
	must(t, err)
	var info []struct {
		Backup []struct{ Label string }
	}
	must(t, json.Unmarshal([]byte(out), &info))
	if len(info) == 0 || len(info[0].Backup) == 0 {
		t.Fatalf("no backup in the repository: %s", out)
	}
	return info[0].Backup[len(info[0].Backup)-1].Label
}
