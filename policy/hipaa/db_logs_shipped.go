package hipaa

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var dbLogsShipped = engine.Rule{
	ID: "db-logs-shipped",
	Description: "Database hosts log connections, schema changes and pgaudit's audit of the application's tables and of role changes, " +
		"and the CloudWatch agent ships that log to a KMS-encrypted log group of the stack",
	Citations: []string{"164.312(b)", "164.308(a)(1)(ii)(D)", "164.312(a)(2)(iv)"},
	Severity:  engine.High,
	Fix: "Render postgresql.conf with logging_collector, log_connections and log_statement 'ddl', shared_preload_libraries with pgaudit, " +
		"pgaudit.role and pgaudit.log with the role class; and the CloudWatch agent's configuration with a collect_list entry of " +
		"log_directory's files into a log group the stack declares with kmsKeyId.",
	Types: []string{tInstance},
	Stack: func(c *engine.Check, s *engine.Stack) {
		groups := map[string]*engine.Resource{}
		for _, g := range s.OfType(tLogGroup) {
			groups[g.Get("name").Str()] = g
		}
		for _, in := range s.OfType(tInstance) {
			if in.Tag(naming.RoleTag).Str() != naming.RoleDatabase {
				continue
			}
			files, ud, err := userDataFiles(c, in)
			if ud.Unknown() {
				c.UnknownOn(in.URN, ud.Path())
				continue
			}
			if err != nil {
				c.FailOn(in.URN, ud.Path(), "the database host's user data cannot be read (%v), so its audit log cannot be shown to be kept", err)
				continue
			}
			var agent string
			for p, content := range files {
				if path.Base(p) == "cloudwatch-agent.json" {
					agent = content
				}
			}
			conf, _ := postgresFiles(files)
			if conf == "" {
				c.FailOn(in.URN, ud.Path(), "the database host's user data carries no postgresql.conf, so what it logs cannot be shown")
				continue
			}
			settings := pgSettingsOf(c, conf)
			for _, problem := range auditLogging(settings) {
				c.FailOn(in.URN, ud.Path(), "postgresql.conf %s", problem)
			}
			dir := settings["log_directory"]
			group, problem := shippedTo(agentCollects(c, agent), dir)
			if problem != "" {
				c.FailOn(in.URN, ud.Path(), "%s", problem)
				continue
			}
			g, ok := groups[group]
			switch {
			case !ok:
				c.FailOn(in.URN, ud.Path(), "the CloudWatch agent ships %s to %s, which this stack does not declare, so neither its key nor its retention is known", dir, group)
			case g.Get("kmsKeyId").Unknown():
				c.UnknownOn(g.URN, "kmsKeyId")
			case !g.Get("kmsKeyId").Present():
				c.FailOn(g.URN, "kmsKeyId", "the database's log reaches %s, which has no kmsKeyId: set it to the logs key", group)
			}
		}
	},
}

// auditLogging says what in settings keeps the database's audit log from recording connections, schema
// changes, role changes and the application's tables.
func auditLogging(settings map[string]string) []string {
	var problems []string
	on := func(name string) bool {
		v := strings.ToLower(settings[name])
		return v == "on" || v == "true" || v == "1"
	}
	for _, name := range []string{"logging_collector", "log_connections"} {
		if !on(name) {
			problems = append(problems, "sets "+name+" = "+quoted(settings[name])+"; set it on")
		}
	}
	if v := settings["log_statement"]; v != "ddl" && v != "mod" && v != "all" {
		problems = append(problems, "sets log_statement = "+quoted(v)+"; set it to 'ddl', so every schema change is logged")
	}
	if !slices.Contains(splitList(settings["shared_preload_libraries"]), "pgaudit") {
		problems = append(problems, "does not load pgaudit (shared_preload_libraries = "+quoted(settings["shared_preload_libraries"])+")")
	}
	if settings["pgaudit.role"] == "" {
		problems = append(problems, "sets no pgaudit.role, so no read or write of the application's tables is audited")
	}
	if classes := splitList(strings.ToLower(settings["pgaudit.log"])); !slices.Contains(classes, "role") && !slices.Contains(classes, "all") {
		problems = append(problems, "sets pgaudit.log = "+quoted(settings["pgaudit.log"])+"; include role, so role and privilege changes are audited")
	}
	return problems
}

// shippedTo is the log group into which agent (the CloudWatch agent's configuration) ships the files of
// dir, or why it ships none.
func shippedTo(agent collects, dir string) (string, string) {
	if agent.missing {
		return "", "the database host has no CloudWatch agent configuration, so its log stays on the host"
	}
	if agent.err != nil {
		return "", "the CloudWatch agent's configuration does not parse (" + agent.err.Error() + "), so its log cannot be shown to leave the host"
	}
	for _, f := range agent.files {
		if dir != "" && path.Dir(f.FilePath) == path.Clean(dir) && f.LogGroupName != "" {
			return f.LogGroupName, ""
		}
	}
	return "", "the CloudWatch agent ships nothing of PostgreSQL's log_directory " + quoted(dir) + ", so the audit log stays on the host"
}

// collects are the files a CloudWatch agent's configuration ships (logs.logs_collected.files.collect_list).
type collects struct {
	missing bool // no configuration
	err     error
	files   []collected
}

type collected struct {
	FilePath     string `json:"file_path"`
	LogGroupName string `json:"log_group_name"`
}

// agentCollects reads a CloudWatch agent's configuration, once per text in an evaluation.
func agentCollects(c *engine.Check, agent string) collects {
	if agent == "" {
		return collects{missing: true}
	}
	return engine.Derive(c, "cloudwatch-agent.json collect_list", agent, func(text string) collects {
		var cfg struct {
			Logs struct {
				LogsCollected struct {
					Files struct {
						CollectList []collected `json:"collect_list"`
					} `json:"files"`
				} `json:"logs_collected"`
			} `json:"logs"`
		}
		err := json.Unmarshal([]byte(text), &cfg)
		return collects{err: err, files: cfg.Logs.LogsCollected.Files.CollectList}
	})
}

// splitList is a comma-separated setting's items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func quoted(v string) string { return "'" + v + "'" }
