package hostconfig_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// shippedLogs are the files the host's CloudWatch agent ships to its log group as the postgresql stream,
// read from the agent's rendered configuration.
func shippedLogs(t *testing.T, files hostconfig.Files) []string {
	t.Helper()
	var agent struct {
		Logs struct {
			LogsCollected struct {
				Files struct {
					CollectList []struct {
						FilePath      string `json:"file_path"`
						LogStreamName string `json:"log_stream_name"`
					} `json:"collect_list"`
				} `json:"files"`
			} `json:"logs_collected"`
		} `json:"logs"`
	}
	must(t, json.Unmarshal([]byte(files["cloudwatch-agent.json"]), &agent))
	var shipped []string
	for _, c := range agent.Logs.LogsCollected.Files.CollectList {
		if strings.HasSuffix(c.LogStreamName, "/postgresql") {
			matches, err := filepath.Glob(c.FilePath)
			must(t, err)
			shipped = append(shipped, matches...)
		}
	}
	return shipped
}

// TestReadsOfPHIAndRoleChangesReachTheShippedLog runs a primary with its rendered configuration and the
// logging collector on, as on a host, and makes the roles as the converge script does; the application
// then makes a table, writes to it and reads it, and an administrator changes a role. The files the
// CloudWatch agent ships hold pgaudit's line for the read and for the write, naming who and the table,
// for the role change, the connection and the DDL; and neither a value of the table nor any of the
// passwords the roles were made with.
func TestReadsOfPHIAndRoleChangesReachTheShippedLog(t *testing.T) {
	requireServers(t)
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	p, err := env.Params(hostconfig.Primary, "db-0")
	must(t, err)
	p.LoggingCollector = true
	p.LogGroup = "/hipaa/test/db-0"
	p.Monitoring = &hostconfig.Monitoring{
		NrpePort: 5666, AllowedHosts: []string{"127.0.0.1"}, NrpeDir: "/unused", NrpeUser: "nagios", PidFile: "/unused",
		Namespace: "HIPAA/Database", Cluster: "db",
	}
	s, err := env.Install(p)
	must(t, err)
	must(t, s.InitPrimary())
	must(t, s.Start())
	must(t, s.RunRoles())

	app := "user=app_a dbname=clinic sslmode=verify-full sslrootcert=" + env.CAFile + " password=" + pgtest.AppPassword
	for _, sql := range []string{
		"CREATE TABLE patients (id int PRIMARY KEY, name text)",
		"INSERT INTO patients VALUES (1, 'Jane Roe')",
		"SELECT name FROM patients WHERE id = 1",
	} {
		if _, err := s.Connect(app, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	_, err = s.SQL("ALTER ROLE nagios CONNECTION LIMIT 10")
	must(t, err)
	// The converge script runs roles.sql again whenever a role is missing: that changes nothing.
	must(t, s.RunRoles())

	files, err := hostconfig.Config(p)
	must(t, err)
	logs := shippedLogs(t, files)
	if len(logs) == 0 {
		t.Fatalf("the agent ships no file of %s: %v", p.LogDir, files["cloudwatch-agent.json"])
	}
	var text strings.Builder
	for _, f := range logs {
		b, err := os.ReadFile(f)
		must(t, err)
		text.Write(b)
	}
	got := text.String()
	for _, want := range []string{
		"app_a@clinic from 127.0.0.1 (psql) LOG:  AUDIT: OBJECT,1,1,READ,SELECT,TABLE,public.patients,<not logged>,<not logged>",
		"app_a@clinic from 127.0.0.1 (psql) LOG:  AUDIT: OBJECT,1,1,WRITE,INSERT,TABLE,public.patients,<not logged>,<not logged>",
		"AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,<not logged>,<not logged>",
		"statement: ALTER ROLE nagios CONNECTION LIMIT 10",
		"connection authorized: user=app_a database=clinic",
		"statement: CREATE TABLE patients",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the shipped log lacks %q", want)
		}
	}
	for _, secret := range []string{pgtest.AppPassword, pgtest.MonitoringPassword} {
		if strings.Contains(got, secret) {
			t.Errorf("the shipped log holds a password the roles were made with")
		}
	}
	if strings.Contains(got, "Jane Roe") {
		t.Errorf("the shipped log holds a value of the PHI table")
	}
	if t.Failed() {
		t.Logf("the shipped files %v:\n%s", logs, got)
	}
}
