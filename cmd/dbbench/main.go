// Command dbbench compares, on the same pgbench data and real PostgreSQL 15, the plain export the
// platform used to rely on (pg_dump, pg_restore) with the configured backup and restore (pgBackRest from
// the standby into an S3 stand-in), and measures the time to rebuild a replica, the recovery point the
// archive timeout achieves, the load a backup puts on the primary and the restore drill's times; then, on Patroni clusters of
// three, the failover time (median of -failovers) and a switchover's. Everything runs on loopback
// under a temporary directory and is stopped at the end.
//
//	go run ./cmd/dbbench [-scale 50] [-archive-timeout 15] [-load-seconds 20] [-failovers 3]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
)

func main() {
	scale := flag.Int("scale", 50, "pgbench scale factor (50 is about 750 MB)")
	archiveTimeout := flag.Int("archive-timeout", 15, "archive_timeout in seconds, the recovery point objective under test")
	loadSeconds := flag.Int("load-seconds", 20, "length of each pgbench load run on the primary")
	failovers := flag.Int("failovers", 3, "failovers measured for each timing of the Patroni cluster (0: none)")
	flag.Parse()
	if *failovers < 0 {
		fmt.Fprintf(os.Stderr, "dbbench: -failovers %d: want 0 or more\n", *failovers)
		os.Exit(2)
	}
	missing := pgtest.Missing()
	if *failovers > 0 {
		missing = pgtest.MissingHA()
	}
	if missing != "" {
		fmt.Fprintln(os.Stderr, "dbbench: not installed:", missing)
		os.Exit(2)
	}
	if err := run(*scale, *archiveTimeout, *loadSeconds, *failovers); err != nil {
		fmt.Fprintln(os.Stderr, "dbbench:", err)
		os.Exit(1)
	}
}

type row struct{ what, plain, configured string }

// bench is one run: the environment, the cluster measured and the rows measured so far.
type bench struct {
	env              *pgtest.Env
	primary, replica *pgtest.Server
	sock             []string
	rows             []row
}

func step(s string) { fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), s) }

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func run(scale, archiveTimeout, loadSeconds, failovers int) error {
	dir, err := os.MkdirTemp("", "hipaa-db-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env, err := pgtest.New(dir)
	if err != nil {
		return err
	}
	defer env.Close()

	step("starting a primary and a replica with the rendered configuration")
	cluster, err := env.StartCluster(func(p *hostconfig.Params) { p.ArchiveTimeoutSeconds = archiveTimeout })
	if err != nil {
		return err
	}
	b := &bench{env: env, primary: cluster.Primary, replica: cluster.Replica,
		sock: []string{"-h", cluster.Primary.Params.SocketDir, "-p", strconv.Itoa(cluster.Primary.Params.Port)}}
	size, err := b.load(scale)
	if err != nil {
		return err
	}
	for _, measure := range []func() error{
		b.backupAndRestore,
		b.drill,
		b.rebuildReplica,
		func() error { return b.recoveryPoint(archiveTimeout) },
		func() error { return b.loadDuringBackups(loadSeconds) },
	} {
		if err := measure(); err != nil {
			return err
		}
	}
	// The fixed-role cluster is done with: the Patroni clusters have the machine to themselves.
	_ = b.primary.Stop()
	_ = b.replica.Stop()
	var ha []haResult
	if failovers > 0 {
		ha, err = b.failovers(failovers)
	}
	// What was measured is printed even when a later measurement failed.
	b.print(scale, size)
	if len(ha) > 0 {
		printHA(ha, failovers)
	}
	return err
}

// load fills the primary with pgbench data at scale and returns its size.
func (b *bench) load(scale int) (string, error) {
	step(fmt.Sprintf("loading pgbench data, scale %d", scale))
	if _, err := b.env.Run(pgtest.Bin+"/createdb", append(b.sock, "bench")...); err != nil {
		return "", err
	}
	if _, err := b.env.Run(pgtest.Bin+"/pgbench", append(b.sock, "-i", "-q", "-s", strconv.Itoa(scale), "bench")...); err != nil {
		return "", err
	}
	return b.primary.SQL(`SELECT pg_size_pretty(pg_database_size('bench'))`)
}

// backupAndRestore times a plain export and its restore against a pgBackRest full backup from the
// standby and its restore into an empty directory, until it accepts connections.
func (b *bench) backupAndRestore() error {
	step("pg_dump and pg_restore")
	dump := filepath.Join(b.env.Dir, "bench.dump")
	dumpTime, err := timed(func() error {
		_, err := b.env.Run(pgtest.Bin+"/pg_dump", append(b.sock, "-Fc", "-f", dump, "bench")...)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := b.env.Run(pgtest.Bin+"/createdb", append(b.sock, "bench_restored")...); err != nil {
		return err
	}
	restoreTime, err := timed(func() error {
		_, err := b.env.Run(pgtest.Bin+"/pg_restore", append(b.sock, "-j", "2", "-d", "bench_restored", dump)...)
		return err
	})
	if err != nil {
		return err
	}

	step("pgBackRest full backup from the standby")
	backupTime, err := timed(func() error { _, err := b.replica.PgBackRest("--type=full", "backup"); return err })
	if err != nil {
		return err
	}
	step("pgBackRest restore into an empty directory, until it accepts connections")
	rsp, err := b.env.Params(hostconfig.Primary, "db-restore")
	if err != nil {
		return err
	}
	restored, err := b.env.Install(rsp)
	if err != nil {
		return err
	}
	pbrRestoreTime, err := timed(func() error {
		if _, err := restored.PgBackRest("--pg1-path="+rsp.DataDir, "--type=immediate", "--target-action=promote", "restore"); err != nil {
			return err
		}
		return restored.Start("archive_mode=off")
	})
	if err != nil {
		return err
	}
	restored.Stop()
	b.rows = append(b.rows,
		row{"backup", fmt.Sprintf("pg_dump -Fc %s", round(dumpTime)), fmt.Sprintf("pgBackRest full, from the standby %s", round(backupTime))},
		row{"restore", fmt.Sprintf("pg_restore -j2 %s", round(restoreTime)), fmt.Sprintf("pgBackRest restore + recovery %s", round(pbrRestoreTime))},
		row{"point in time", "no: the dump's moment only", "yes: any moment within the retention"},
	)
	return nil
}

// drill runs the rendered restore drill against the repository the backups above filled: verify,
// a point-in-time restore of the newest backup, amcheck, the canary.
func (b *bench) drill() error {
	step("restore drill: verify, point-in-time restore of the newest backup, amcheck, canary")
	if err := b.env.Canary(b.primary, 10*time.Second, nil); err != nil {
		return err
	}
	run, err := b.env.Drill(b.replica, b.env.TestDrill(5))
	if err != nil {
		return err
	}
	if run.Err != nil {
		return fmt.Errorf("the drill failed: %w\n%s", run.Err, run.Output)
	}
	b.rows = append(b.rows, row{"restore drill (verify, PITR, amcheck, canary)", "-",
		fmt.Sprintf("restore %v s, drill %v s in all", run.Evidence["restoreSeconds"], run.Evidence["totalSeconds"])})
	return nil
}

// rebuildReplica times a new replica made from the primary over TLS, until it streams.
func (b *bench) rebuildReplica() error {
	step("rebuilding a replica")
	rebuildTime, err := timed(func() error { _, err := b.env.StartReplica(b.primary, "db-2", nil); return err })
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{"rebuild a replica", "-", fmt.Sprintf("pg_basebackup over TLS + start %s", round(rebuildTime))})
	return nil
}

// recoveryPoint commits and waits for its WAL to reach the repository without forcing it: the recovery
// point when the whole cluster is lost; the replica's replay lag is the one when the primary is.
func (b *bench) recoveryPoint(archiveTimeout int) error {
	step("recovery point: commit, then wait for its WAL to reach the repository without forcing it")
	const lastArchived = `SELECT coalesce(last_archived_time, 'epoch')::text FROM pg_stat_archiver`
	before, err := b.primary.SQL(lastArchived)
	if err != nil {
		return err
	}
	if _, err := b.primary.SQL(`CREATE TABLE IF NOT EXISTS rpo (t timestamptz); INSERT INTO rpo VALUES (now())`); err != nil {
		return err
	}
	commit := time.Now()
	var archived time.Duration
	for deadline := time.Now().Add(time.Duration(archiveTimeout+30) * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		now, err := b.primary.SQL(lastArchived)
		if err == nil && now != before {
			archived = time.Since(commit)
			break
		}
	}
	lag, _ := b.primary.SQL(`SELECT coalesce(max(extract(epoch FROM replay_lag))::numeric(10,3)::text, '0') FROM pg_stat_replication`)
	rpo := "not archived in time"
	if archived > 0 {
		rpo = fmt.Sprintf("%s after commit (archive_timeout %ds)", round(archived), archiveTimeout)
	}
	b.rows = append(b.rows,
		row{"recovery point, losing the cluster", "the last dump (hours)", rpo},
		row{"recovery point, losing the primary", "the last dump (hours)", "replica replay lag " + lag + " s"},
	)
	return nil
}

// loadDuringBackups measures the primary's read throughput idle, during a backup from the standby and
// during one from the primary.
func (b *bench) loadDuringBackups(seconds int) error {
	step(fmt.Sprintf("load on the primary: pgbench %ds idle, during a backup from the standby, during one from the primary", seconds))
	idle, err := b.tps(seconds, nil)
	if err != nil {
		return err
	}
	fromStandby, err := b.tps(seconds, func() error { _, err := b.replica.PgBackRest("--type=full", "backup"); return err })
	if err != nil {
		return err
	}
	fromPrimary, err := b.tps(seconds, func() error { _, err := b.primary.PgBackRest("--type=full", "backup"); return err })
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{"primary read tps during a full backup", "idle " + idle, fmt.Sprintf("from the standby %s; from the primary %s", fromStandby, fromPrimary)})
	return nil
}

// tps runs a read-only pgbench on the primary for seconds, while during runs (when given).
func (b *bench) tps(seconds int, during func() error) (string, error) {
	var wg sync.WaitGroup
	var bgErr error
	if during != nil {
		wg.Add(1)
		go func() { defer wg.Done(); bgErr = during() }()
	}
	out, err := b.env.Run(pgtest.Bin+"/pgbench", append(b.sock, "-c", "4", "-j", "2", "-T", strconv.Itoa(seconds), "-S", "bench")...)
	wg.Wait()
	if err != nil {
		return "", err
	}
	if bgErr != nil {
		return "", bgErr
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tps = ") {
			v, err := strconv.ParseFloat(strings.Fields(line)[2], 64)
			return strconv.FormatFloat(v, 'f', 0, 64), err
		}
	}
	return "", fmt.Errorf("no tps in pgbench output:\n%s", out)
}

// print writes the table.
func (b *bench) print(scale int, size string) {
	fmt.Printf("\nDatabase backup and restore, pgbench scale %d (%s), PostgreSQL 15 and pgBackRest 2.45 on loopback, 2 cores\n\n", scale, size)
	fmt.Printf("| %-46s | %-30s | %s |\n", "", "pg_dump / pg_restore", "configured (pgBackRest, replicas)")
	fmt.Printf("| %s | %s | %s |\n", dashes(46), dashes(30), dashes(40))
	for _, r := range b.rows {
		fmt.Printf("| %-46s | %-30s | %s |\n", r.what, r.plain, r.configured)
	}
	fmt.Println("\nAll servers share this machine's 2 cores, so a backup taken on the standby still competes with the")
	fmt.Println("primary for CPU here; on separate hosts the primary only serves the backup's start and stop.")
}

func round(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

func dashes(n int) string { return strings.Repeat("-", n) }
