package hipaa

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/naming"
)

// RoleTag names a host's role; hosts of RoleDatabase run Postgres.
const RoleTag, RoleDatabase = naming.RoleTag, naming.RoleDatabase

var dbTLSOnly = Rule{
	ID:          "db-tls-only",
	Description: "Database hosts' rendered Postgres configuration accepts only TLS 1.2+ for clients and replication",
	Citations:   []string{"164.312(e)(1)", "project"},
	Severity:    Critical,
	Fix:         "Render postgresql.conf with ssl = on and ssl_min_protocol_version = 'TLSv1.2' (or TLSv1.3), and pg_hba.conf with hostssl lines only (no host or hostnossl).",
	Types:       []string{tInstance, tLaunchTemplate},
	Resource: func(c *Check, r *Resource) {
		if r.Tag(RoleTag).Str() != RoleDatabase {
			return
		}
		ud := r.Get("userData")
		if ud.Missing() {
			ud = r.Get("userDataBase64")
		}
		if ud.Unknown() {
			c.Unknown(ud.Path())
			return
		}
		files := cloudConfigFiles(ud.Str())
		conf, hba := "", ""
		for path, content := range files {
			switch {
			case strings.HasSuffix(path, "/postgresql.conf"), strings.HasSuffix(path, "/conf.d/hipaa.conf"):
				conf += content + "\n"
			case strings.HasSuffix(path, "/pg_hba.conf"):
				hba += content
			}
		}
		if conf == "" || hba == "" {
			c.Fail("userData", "the database host's user data carries no postgresql.conf and pg_hba.conf, so TLS-only access cannot be shown")
			return
		}
		settings := pgSettings(conf)
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

// cloudFile is one write_files entry of a cloud-config.
type cloudFile struct {
	Path     string `yaml:"path"`
	Content  string `yaml:"content"`
	Encoding string `yaml:"encoding"`
}

// cloudConfigFiles returns the write_files of a cloud-config user data, decoded: the user data may be
// base64 and gzip compressed, and each file's content may be b64 or gz+b64 encoded.
func cloudConfigFiles(userData string) map[string]string {
	data := []byte(userData)
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(userData)); err == nil {
		data = dec
	}
	data = gunzipMaybe(data)
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("#cloud-config")) {
		return nil
	}
	entries, ok := writeFilesFast(string(data))
	if !ok {
		var doc struct {
			WriteFiles []cloudFile `yaml:"write_files"`
		}
		if yaml.Unmarshal(data, &doc) != nil {
			return nil
		}
		entries = doc.WriteFiles
	}
	files := map[string]string{}
	for _, f := range entries {
		content := []byte(f.Content)
		switch strings.ToLower(f.Encoding) {
		case "b64", "base64":
			content, _ = base64.StdEncoding.DecodeString(f.Content)
		case "gz+b64", "gzip+base64", "gz+base64", "gzip+b64":
			raw, _ := base64.StdEncoding.DecodeString(f.Content)
			content = gunzipMaybe(raw)
		}
		files[f.Path] += string(content)
	}
	return files
}

// gzipReaders are reused: a reader's window is 32 KB, and an audit may decompress thousands of hosts'
// user data.
var gzipReaders sync.Pool

func gunzipMaybe(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b
	}
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return b
	}
	defer gzipReaders.Put(zr)
	var out bytes.Buffer
	out.Grow(4 * len(b))
	if _, err := out.ReadFrom(io.LimitReader(zr, 1<<20)); err != nil {
		return b
	}
	return out.Bytes()
}
