package hipaa

import (
	"bufio"
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var dbTLSOnly = engine.Rule{
	ID:          "db-tls-only",
	Description: "Database hosts' rendered Postgres configuration accepts only TLS 1.2+ for clients and replication",
	Citations:   []string{"164.312(e)(1)", "project"},
	Severity:    engine.Critical,
	Fix:         "Render postgresql.conf with ssl = on and ssl_min_protocol_version = 'TLSv1.2' (or TLSv1.3), and pg_hba.conf with hostssl lines only (no host or hostnossl).",
	Types:       []string{tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if r.Tag(naming.RoleTag).Str() != naming.RoleDatabase {
			return
		}
		files, ud, err := userDataFiles(c, r)
		if ud.Unknown() {
			c.Unknown(ud.Path())
			return
		}
		if err != nil {
			c.Fail("userData", "the database host's user data cannot be read (%v), so TLS-only access cannot be shown", err)
			return
		}
		conf, hba := postgresFiles(files)
		if conf == "" || hba == "" {
			c.Fail("userData", "the database host's user data carries no postgresql.conf and pg_hba.conf, so TLS-only access cannot be shown")
			return
		}
		settings := pgSettingsOf(c, conf)
		if v := settings["ssl"]; v != "on" && v != "true" {
			c.Fail("userData", "postgresql.conf sets ssl = %q; set ssl = on", v)
		}
		if v := settings["ssl_min_protocol_version"]; v != "TLSv1.2" && v != "TLSv1.3" {
			c.Fail("userData", "postgresql.conf sets ssl_min_protocol_version = %q; set it to 'TLSv1.2' or 'TLSv1.3'", v)
		}
		sc := bufio.NewScanner(strings.NewReader(hba))
		for n := 1; sc.Scan(); n++ {
			fields := strings.Fields(strings.SplitN(sc.Text(), "#", 2)[0])
			if len(fields) == 0 {
				continue
			}
			switch fields[0] {
			case "host", "hostnossl", "hostgssenc", "hostnogssenc":
				c.Fail("userData", "pg_hba.conf line %d is %q: it admits connections without TLS; use hostssl", n, fields[0])
			}
		}
	},
}

// postgresFiles are the Postgres configuration a host's user data writes: postgresql.conf followed by
// the drop-in its include_dir names, as Postgres reads them (so that a setting of the drop-in wins),
// and pg_hba.conf.
func postgresFiles(files map[string]string) (conf, hba string) {
	var main, dropIn string
	for path, content := range files {
		switch {
		case strings.HasSuffix(path, "/postgresql.conf"):
			main += content + "\n"
		case strings.HasSuffix(path, "/conf.d/hipaa.conf"):
			dropIn += content + "\n"
		case strings.HasSuffix(path, "/pg_hba.conf"):
			hba += content
		}
	}
	return main + dropIn, hba
}

// pgSettingsOf is pgSettings(conf), read once per text in an evaluation: every database host of a tier,
// and of every stack of a fleet, has the same. The map is shared, and read only.
func pgSettingsOf(c *engine.Check, conf string) map[string]string {
	return engine.Derive(c, "postgresql.conf settings", conf, pgSettings)
}

// pgSettings reads a postgresql.conf text into its settings; as in Postgres, the last value of a name
// wins. Values are unquoted; comments are dropped.
func pgSettings(conf string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(conf, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			name, value, ok = strings.Cut(line, " ")
		}
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, "'") {
			if end := strings.Index(value[1:], "'"); end >= 0 {
				value = value[1 : end+1]
			}
		} else if i := strings.IndexAny(value, " #"); i >= 0 {
			value = value[:i]
		}
		out[strings.ToLower(strings.TrimSpace(name))] = value
	}
	return out
}
