package hipaa

import (
	"strings"
	"testing"
)

const (
	auditConf = "logging_collector = on\nlog_directory = '/var/log/postgresql'\nlog_connections = on\nlog_statement = 'ddl'\n" +
		"shared_preload_libraries = 'pgaudit'\npgaudit.log = 'role'\npgaudit.role = 'hipaa_auditor'\n"
	shippingAgent = `{"logs": {"logs_collected": {"files": {"collect_list": [
  {"file_path": "/var/log/hipaa/converge.log", "log_group_name": "/hipaa/db-0"},
  {"file_path": "/var/log/postgresql/*.log", "log_group_name": "/hipaa/db-0"}]}}}}`
)

// hostFiles is a cloud-config that writes a database host's postgresql.conf and its CloudWatch agent's
// configuration.
func hostFiles(conf, agent string) string {
	return writeFiles("/etc/hipaa/postgresql.conf", conf, "/etc/hipaa/cloudwatch-agent.json", agent)
}

func TestDbLogsShipped(t *testing.T) {
	t.Parallel()
	without := func(setting string) string {
		var kept []string
		for _, line := range strings.Split(auditConf, "\n") {
			if !strings.HasPrefix(line, setting+" ") {
				kept = append(kept, line)
			}
		}
		return strings.Join(kept, "\n")
	}
	testStackRule(t, &dbLogsShipped, stackFixture{
		{typ: tInstance, name: "db-0", props: map[string]any{"tags": map[string]any{"Role": "database"}, "userData": hostFiles(auditConf, shippingAgent)}},
		{typ: tInstance, name: "monitoring", props: map[string]any{"tags": map[string]any{"Role": "monitoring"}}},
		{typ: tLogGroup, name: "logs", props: map[string]any{"name": "/hipaa/db-0", "kmsKeyId": testKey}},
	}, []change{
		{"no pgaudit", "db-0:userData", hostFiles(without("shared_preload_libraries"), shippingAgent),
			[]string{"userData: postgresql.conf does not load pgaudit (shared_preload_libraries = '')"}},
		{"no object audit", "db-0:userData", hostFiles(without("pgaudit.role"), shippingAgent),
			[]string{"userData: postgresql.conf sets no pgaudit.role, so no read or write of the application's tables is audited"}},
		{"no role audit", "db-0:userData", hostFiles(strings.Replace(auditConf, "pgaudit.log = 'role'", "pgaudit.log = 'ddl'", 1), shippingAgent),
			[]string{"userData: postgresql.conf sets pgaudit.log = 'ddl'; include role, so role and privilege changes are audited"}},
		{"no schema changes", "db-0:userData", hostFiles(strings.Replace(auditConf, "'ddl'", "'none'", 1), shippingAgent),
			[]string{"userData: postgresql.conf sets log_statement = 'none'; set it to 'ddl', so every schema change is logged"}},
		{"a drop-in that undoes pgaudit, read after postgresql.conf as Postgres reads it", "db-0:userData",
			writeFiles("/etc/hipaa/postgresql.conf", auditConf, "/etc/hipaa/conf.d/hipaa.conf", "shared_preload_libraries = 'pg_stat_statements'\n",
				"/etc/hipaa/cloudwatch-agent.json", shippingAgent),
			[]string{"userData: postgresql.conf does not load pgaudit (shared_preload_libraries = 'pg_stat_statements')"}},
		{"no connections", "db-0:userData", hostFiles(without("log_connections"), shippingAgent),
			[]string{"userData: postgresql.conf sets log_connections = ''; set it on"}},
		{"the log stays on the host", "db-0:userData", hostFiles(auditConf, strings.Replace(shippingAgent, "/var/log/postgresql/", "/var/log/other/", 1)),
			[]string{"userData: the CloudWatch agent ships nothing of PostgreSQL's log_directory '/var/log/postgresql', so the audit log stays on the host"}},
		{"no agent", "db-0:userData", writeFiles("/etc/hipaa/postgresql.conf", auditConf),
			[]string{"userData: the database host has no CloudWatch agent configuration, so its log stays on the host"}},
		{"an undeclared group", "-logs", nil,
			[]string{"userData: the CloudWatch agent ships /var/log/postgresql to /hipaa/db-0, which this stack does not declare, so neither its key nor its retention is known"}},
		{"an unencrypted group", "logs:kmsKeyId", "",
			[]string{"kmsKeyId: the database's log reaches /hipaa/db-0, which has no kmsKeyId: set it to the logs key"}},
		{"no configuration", "db-0:userData", "#cloud-config\nwrite_files: []\n",
			[]string{"userData: the database host's user data carries no postgresql.conf, so what it logs cannot be shown"}},
	})
}
