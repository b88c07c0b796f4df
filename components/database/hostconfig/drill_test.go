package hostconfig_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// drill renders the restore drill for a host of the cluster, with a stand-in AWS CLI that records
// its calls and keeps what it is asked to copy to S3, and runs it.
func drill(t *testing.T, env *pgtest.Env, s *pgtest.Server) (out string, err error, calls string, evidence map[string]any) {
	t.Helper()
	dir := filepath.Join(env.Dir, "drill-aws")
	must(t, env.WriteFile(filepath.Join(env.Dir, "drill-aws.log"), "", 0o600))
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.Chown(dir, os.Getuid(), os.Getgid()))
	// Records every call; for `s3 cp SRC DEST`, keeps SRC as the evidence.
	fake := filepath.Join(env.Dir, "aws")
	must(t, env.WriteFile(fake, `#!/bin/sh
echo "$@" >> `+env.Dir+`/drill-aws.log
while [ $# -gt 0 ]; do
  if [ "$1" = cp ]; then cp "$2" `+env.Dir+`/evidence.json; exit 0; fi
  shift
done
`, 0o700))
	p := s.Params
	p.AWSCLI = fake
	p.Drill = &hostconfig.Drill{Cluster: "db", Namespace: "HIPAA/Database", Dir: filepath.Join(env.Dir, "drill"), Port: 55432,
		TargetAgeSeconds: 5, CanaryTable: "hipaa_canary", CanaryToleranceSeconds: 120,
		EvidenceBucket: "hipaa-test-logs", EvidencePrefix: "drills/db", EvidenceKeyID: "alias/hipaa-test-logs"}
	script, rerr := hostconfig.DrillScript(p)
	must(t, rerr)
	path := filepath.Join(env.Dir, "drill.sh")
	must(t, env.WriteFile(path, script, 0o700))
	_ = os.Remove(filepath.Join(env.Dir, "evidence.json"))
	b, err := env.Command("/bin/bash", path).CombinedOutput()
	log, _ := os.ReadFile(filepath.Join(env.Dir, "drill-aws.log"))
	if raw, rerr := os.ReadFile(filepath.Join(env.Dir, "evidence.json")); rerr == nil {
		must(t, json.Unmarshal(raw, &evidence))
	}
	return string(b), err, string(log), evidence
}

// TestRestoreDrill restores a real backup and fails loudly on a damaged one: it runs the rendered drill against a
// real repository: the newest backup restored to a few seconds ago, PostgreSQL answering, amcheck on
// the indexes, the canary row found, the metrics and the evidence record written; then, with one of
// the backup's files damaged in the repository, the drill fails, says where, publishes its failure
// and records it.
func TestRestoreDrill(t *testing.T) {
	requireServers(t)
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	cluster, err := env.StartCluster(nil)
	must(t, err)
	primary, replica := cluster.Primary, cluster.Replica
	_, err = replica.PgBackRest("backup", "--type=full")
	must(t, err)
	// The canary, as the primary writes it every minute; its WAL reaches the repository.
	for _, sql := range []string{
		`CREATE TABLE hipaa_canary (at timestamptz NOT NULL DEFAULT now())`,
		`CREATE INDEX ON hipaa_canary (at)`,
		`INSERT INTO hipaa_canary DEFAULT VALUES`,
	} {
		_, err := env.Run(pgtest.Bin+"/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", primary.Params.SocketDir,
			"-p", strconv.Itoa(primary.Params.Port), "-d", "clinic", "-c", sql)
		must(t, err)
	}
	// Ten seconds later the next commit, whose WAL the restore needs to see the target passed; the drill
	// aims at five seconds ago, between the two.
	time.Sleep(10 * time.Second)
	_, err = env.Run(pgtest.Bin+"/psql", "-X", "-q", "-h", primary.Params.SocketDir, "-p", strconv.Itoa(primary.Params.Port),
		"-d", "clinic", "-c", "INSERT INTO hipaa_canary DEFAULT VALUES")
	must(t, err)
	segment, err := primary.SQL("SELECT pg_walfile_name(pg_current_wal_lsn())")
	must(t, err)
	_, err = primary.SQL("SELECT pg_switch_wal()")
	must(t, err)
	waitFor(t, "the canary's WAL in the repository", func() (bool, error) {
		last, err := primary.SQL("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
		return last >= segment, err
	})

	out, err, calls, evidence := drill(t, env, replica)
	if err != nil {
		t.Fatalf("the drill failed: %v\n%s", err, out)
	}
	for _, want := range []string{"restored and answering after", "B-tree indexes intact", "the canary row for", "drill passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the drill's output lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"--metric-name DrillSucceeded", "--value 1", "--metric-name RestoreSeconds",
		"s3 cp", "s3://hipaa-test-logs/drills/db/", "--sse aws:kms --sse-kms-key-id alias/hipaa-test-logs"} {
		if !strings.Contains(calls, want) {
			t.Errorf("the drill's AWS calls lack %q:\n%s", want, calls)
		}
	}
	if evidence["result"] != "passed" || evidence["checks"].(map[string]any)["canary"] != true {
		t.Errorf("the evidence does not record a passed drill: %v", evidence)
	}
	t.Logf("the drill: %v s to restore, %v s in all", evidence["restoreSeconds"], evidence["totalSeconds"])

	// A file of the backup's data directory, damaged in the repository.
	key, err := env.S3().Corrupt("/pg_data/base/")
	must(t, err)
	out, err, calls, evidence = drill(t, env, replica)
	if err == nil {
		t.Fatalf("the drill passed with %s damaged:\n%s", key, out)
	}
	if !strings.Contains(out, "DRILL FAILED at step 'verify'") {
		t.Errorf("the drill does not say where it failed:\n%s", out)
	}
	if !strings.Contains(calls, "--metric-name DrillSucceeded --unit Count --dimensions Cluster=db --value 0") {
		t.Errorf("the drill did not publish its failure:\n%s", calls)
	}
	if evidence["result"] != "failed" || evidence["failedStep"] != "verify" {
		t.Errorf("the evidence does not record the failure: %v", evidence)
	}
}
