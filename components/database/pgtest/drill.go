package pgtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
)

// DrillRun is one run of the rendered restore drill.
type DrillRun struct {
	// Output is what the drill printed; Err its failure.
	Output string
	Err    error
	// Calls are the AWS CLI calls it made, one per line.
	Calls string
	// Evidence is the evidence record it wrote, decoded; nil if it wrote none.
	Evidence map[string]any
}

// Drill renders the restore drill for server s's host with d and runs it, with a stand-in for the
// AWS CLI that records its calls and keeps the file a `s3 cp` is asked to upload as the evidence.
func (e *Env) Drill(s *Server, d hostconfig.Drill) (DrillRun, error) {
	calls, evidence, fake := filepath.Join(e.Dir, "drill-aws.log"), filepath.Join(e.Dir, "evidence.json"), filepath.Join(e.Dir, "aws")
	if err := e.write(calls, "", 0o600); err != nil {
		return DrillRun{}, err
	}
	_ = os.Remove(evidence)
	if err := e.write(fake, "#!/bin/sh\necho \"$@\" >> "+calls+"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = cp ]; then cp \"$2\" "+evidence+"; exit 0; fi\n  shift\ndone\n", 0o700); err != nil {
		return DrillRun{}, err
	}
	p := s.Params
	p.AWSCLI = fake
	p.Drill = &d
	script, err := hostconfig.DrillScript(p)
	if err != nil {
		return DrillRun{}, err
	}
	path := filepath.Join(e.Dir, "drill.sh")
	if err := e.write(path, script, 0o700); err != nil {
		return DrillRun{}, err
	}
	out, runErr := e.Command("/bin/bash", path).CombinedOutput()
	run := DrillRun{Output: string(out), Err: runErr}
	b, _ := os.ReadFile(calls)
	run.Calls = string(b)
	if raw, err := os.ReadFile(evidence); err == nil {
		if err := json.Unmarshal(raw, &run.Evidence); err != nil {
			return run, err
		}
	}
	return run, nil
}

// TestDrill is a drill's configuration for the environment: the copy restored under its directory,
// the target TargetAgeSeconds ago, the canary table hipaa_canary, evidence to a test bucket.
func (e *Env) TestDrill(targetAgeSeconds int) hostconfig.Drill {
	return hostconfig.Drill{Cluster: "db", Namespace: "HIPAA/Database", Dir: filepath.Join(e.Dir, "drill"), Port: 55432,
		TargetAgeSeconds: targetAgeSeconds, CanaryTable: "hipaa_canary", CanaryToleranceSeconds: 120,
		EvidenceBucket: "hipaa-test-logs", EvidencePrefix: "drills/db", EvidenceKeyID: "alias/hipaa-test-logs"}
}

// Canary writes the canary row twice, gap apart, with the rendered canary.sql (what
// hipaa-db-canary.timer runs every minute) on the primary, runs it once on standby too (which writes
// nothing), and waits until the WAL of the second row is in the repository (the restore needs WAL past
// its target). A drill aimed between the two finds the first.
func (e *Env) Canary(primary *Server, gap time.Duration, standby *Server) error {
	write := func(s *Server) error {
		p := s.Params
		p.CanaryTable = "hipaa_canary"
		files, err := hostconfig.Config(p)
		if err != nil {
			return err
		}
		path := filepath.Join(p.ConfDir, "canary.sql")
		if err := e.write(path, files["canary.sql"], 0o600); err != nil {
			return err
		}
		_, err = e.Run(Bin+"/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", p.SocketDir, "-p", strconv.Itoa(p.Port), "-d", p.AppDatabase, "-f", path)
		return err
	}
	if err := write(primary); err != nil {
		return err
	}
	if standby != nil {
		if err := write(standby); err != nil {
			return fmt.Errorf("the canary on a standby: %w", err)
		}
	}
	time.Sleep(gap)
	if err := write(primary); err != nil {
		return err
	}
	segment, err := primary.SQL("SELECT pg_walfile_name(pg_current_wal_lsn())")
	if err != nil {
		return err
	}
	if _, err := primary.SQL("SELECT pg_switch_wal()"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if last, err := primary.SQL("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"); err == nil && last >= segment {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return os.ErrDeadlineExceeded
}
