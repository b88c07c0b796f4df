package hostconfig_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
	"github.com/hipaa-platform/platform/internal/standin"
)

// requireServers skips the test where PostgreSQL 15 and pgBackRest are not installed (failing it under
// CI, which installs them).
func requireServers(t *testing.T) {
	t.Helper()
	if missing := pgtest.Missing(); missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install %s (see .ci/run)", missing)
		}
		t.Skipf("not installed: %s", missing)
	}
}

// startCluster starts a primary and a replica with the rendered configuration, stopped when the test
// ends.
func startCluster(t *testing.T, tune func(*hostconfig.Params)) (*pgtest.Env, *pgtest.Cluster) {
	t.Helper()
	requireServers(t)
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	cluster, err := env.StartCluster(tune)
	must(t, err)
	return env, cluster
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPrimaryReplicaBackupRestoreOnRealPostgres runs the rendered configuration of a primary and a
// replica on PostgreSQL 15, backs up from the replica to an S3 stand-in with pgBackRest, restores to a
// point in time, and promotes the replica.
func TestPrimaryReplicaBackupRestoreOnRealPostgres(t *testing.T) {
	env, cluster := startCluster(t, nil)
	primary, replica := cluster.Primary, cluster.Replica
	rp := replica.Params

	t.Run("replica streams over TLS", func(t *testing.T) {
		waitFor(t, "streaming replication", func() (bool, error) {
			out, err := primary.SQL(`SELECT r.state, s.ssl, s.version FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name = 'db-1'`)
			return strings.HasPrefix(out, "streaming|t|TLSv1."), fmt.Errorf("%q %v", out, err)
		})
		slot, err := primary.SQL(`SELECT active FROM pg_replication_slots WHERE slot_name = 'db_1'`)
		if err != nil || slot != "t" {
			t.Errorf("replication slot db_1 active = %q, %v", slot, err)
		}
	})

	t.Run("a row written on the primary is read on the replica", func(t *testing.T) {
		_, err := primary.SQL(`CREATE TABLE patients (id int PRIMARY KEY, note text); INSERT INTO patients VALUES (1, 'first')`)
		must(t, err)
		waitFor(t, "the row on the replica", func() (bool, error) {
			out, err := replica.SQL(`SELECT note FROM patients WHERE id = 1`)
			return out == "first", err
		})
	})

	t.Run("the replica refuses writes", func(t *testing.T) {
		_, err := replica.SQL(`INSERT INTO patients VALUES (2, 'nope')`)
		if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
			t.Errorf("write on the replica: %v", err)
		}
	})

	t.Run("clients need TLS and the right password", func(t *testing.T) {
		tls := "user=app_a dbname=clinic sslmode=verify-full sslrootcert=" + env.CAFile
		// The login acts as app, which may not see the login's own row of pg_stat_ssl: SET ROLE NONE.
		if out, err := primary.Connect(tls+" password="+pgtest.AppPassword, "SET ROLE NONE; SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); err != nil || out != "t" {
			t.Errorf("the application over TLS: %q, %v", out, err)
		}
		if _, err := primary.Connect("user=app_a dbname=clinic sslmode=disable password="+pgtest.AppPassword, "SELECT 1"); err == nil ||
			!strings.Contains(err.Error(), `no pg_hba.conf entry for host "127.0.0.1", user "app_a", database "clinic", no encryption`) {
			t.Errorf("a connection without TLS: %v", err)
		}
		if _, err := primary.Connect(tls+" password=wrong", "SELECT 1"); err == nil ||
			!strings.Contains(err.Error(), `password authentication failed for user "app_a"`) {
			t.Errorf("a wrong password: %v", err)
		}
		if _, err := primary.Connect("user=app_a dbname=postgres sslmode=verify-full sslrootcert="+env.CAFile+" password="+pgtest.AppPassword, "SELECT 1"); err == nil {
			t.Error("the application reached a database other than its own")
		}
	})

	t.Run("replication admits the replicas' certificates alone", func(t *testing.T) {
		replication := "user=replicator replication=true sslmode=verify-full sslrootcert=" + env.CAFile
		if out, err := primary.Connect(replication+" sslcert="+rp.TLS.CertFile+" sslkey="+rp.TLS.KeyFile, "IDENTIFY_SYSTEM"); err != nil || out == "" {
			t.Errorf("db-1 with its certificate: %q, %v", out, err)
		}
		// A host of the same CA that is not one of the replicas.
		cert, key, err := env.Issue("db-9")
		must(t, err)
		must(t, env.WriteFile(env.Dir+"/db-9.crt", string(cert), 0o600))
		must(t, env.WriteFile(env.Dir+"/db-9.key", string(key), 0o600))
		if _, err := primary.Connect(replication+" sslcert="+env.Dir+"/db-9.crt sslkey="+env.Dir+"/db-9.key", "IDENTIFY_SYSTEM"); err == nil ||
			!strings.Contains(err.Error(), `certificate authentication failed for user "replicator"`) {
			t.Errorf("a certificate whose name is no replica's: %v", err)
		}
		// The replica's name on a certificate of another CA.
		other, err := standin.NewCA()
		must(t, err)
		cert, key, err = other.Issue("db-1", "127.0.0.1")
		must(t, err)
		must(t, env.WriteFile(env.Dir+"/other.crt", string(cert), 0o600))
		must(t, env.WriteFile(env.Dir+"/other.key", string(key), 0o600))
		if _, err := primary.Connect(replication+" sslcert="+env.Dir+"/other.crt sslkey="+env.Dir+"/other.key", "IDENTIFY_SYSTEM"); err == nil ||
			!strings.Contains(err.Error(), "unknown ca") {
			t.Errorf("a certificate of another CA: %v", err)
		}
		if _, err := primary.Connect(replication+" password=anything", "IDENTIFY_SYSTEM"); err == nil ||
			!strings.Contains(err.Error(), "connection requires a valid client certificate") {
			t.Errorf("no certificate, a password: %v", err)
		}
	})

	t.Run("a password left on the replication role is removed", func(t *testing.T) {
		_, err := primary.SQL(`ALTER ROLE replicator PASSWORD 'left-from-before'`)
		must(t, err)
		if out, err := primary.SQL(primary.Files["missing.sql"]); err != nil || out != "no password for replicator" {
			t.Errorf("missing.sql: %q, %v; want it to report the password", out, err)
		}
		must(t, primary.RunRoles())
		if out, err := primary.SQL(`SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'replicator'`); err != nil || out != "t" {
			t.Errorf("replicator has a password after roles.sql: %q, %v", out, err)
		}
		if out, err := primary.SQL(primary.Files["missing.sql"]); err != nil || out != "" {
			t.Errorf("missing.sql after roles.sql: %q, %v", out, err)
		}
	})

	var target string
	t.Run("a backup taken from the replica completes", func(t *testing.T) {
		out, err := replica.PgBackRest("--type=full", "backup")
		must(t, err)
		if !strings.Contains(out, "backup from standby") && !strings.Contains(out, "backup-standby") {
			t.Logf("pgBackRest did not say it backed up from the standby:\n%s", out)
		}
		info, err := replica.PgBackRest("--output=json", "info")
		must(t, err)
		var stanzas []struct {
			Backup []struct{ Type string }
			Status struct{ Code int }
		}
		must(t, json.Unmarshal([]byte(info), &stanzas))
		if len(stanzas) != 1 || stanzas[0].Status.Code != 0 || len(stanzas[0].Backup) != 1 || stanzas[0].Backup[0].Type != "full" {
			t.Fatalf("pgbackrest info: %s", info)
		}
		log, _ := os.ReadFile(rp.Backup.LogDir + "/" + pgtest.Stanza + "-backup.log")
		if !strings.Contains(string(log), "backup-standby") {
			t.Errorf("the backup log does not show backup-standby:\n%s", log)
		}
	})

	t.Run("point-in-time restore returns exactly the rows committed before it", func(t *testing.T) {
		_, err := primary.SQL(`INSERT INTO patients SELECT g, 'before' FROM generate_series(10, 19) g`)
		must(t, err)
		time.Sleep(1100 * time.Millisecond)
		target, err = primary.SQL(`SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS.USOF')`)
		must(t, err)
		time.Sleep(1100 * time.Millisecond)
		_, err = primary.SQL(`INSERT INTO patients SELECT g, 'after' FROM generate_series(20, 29) g`)
		must(t, err)
		_, err = primary.SQL(`SELECT pg_switch_wal()`)
		must(t, err)
		waitFor(t, "the WAL to be archived", func() (bool, error) {
			out, err := primary.SQL(`SELECT last_archived_wal IS NOT NULL AND last_archived_time > now() - interval '30 seconds' FROM pg_stat_archiver`)
			return out == "t", err
		})

		rsp, err := env.Params(hostconfig.Primary, "db-restore")
		must(t, err)
		restored, err := env.Install(rsp)
		must(t, err)
		_, err = restored.PgBackRest("--pg1-path="+rsp.DataDir, "--type=time", "--target="+target, "--target-action=promote", "restore")
		must(t, err)
		must(t, restored.Start("archive_mode=off"))
		waitFor(t, "recovery to end", func() (bool, error) {
			out, err := restored.SQL(`SELECT pg_is_in_recovery()`)
			return out == "f", err
		})
		got, err := restored.SQL(`SELECT count(*) FILTER (WHERE note = 'before') || ',' || count(*) FILTER (WHERE note = 'after') || ',' || count(*) FROM patients`)
		must(t, err)
		if got != "10,0,11" {
			t.Errorf("restored to %s: before,after,total = %s, want 10,0,11", target, got)
		}
		must(t, restored.Stop())
	})

	t.Run("promoting the replica leaves a writable primary", func(t *testing.T) {
		must(t, primary.Stop())
		out, err := replica.SQL(`SELECT pg_promote(wait => true)`)
		if err != nil || out != "t" {
			t.Fatalf("pg_promote: %q, %v", out, err)
		}
		if _, err := replica.SQL(`INSERT INTO patients VALUES (100, 'after failover')`); err != nil {
			t.Errorf("write on the promoted replica: %v", err)
		}
	})
}
