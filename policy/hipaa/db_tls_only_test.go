package hipaa

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

const (
	goodConf = "listen_addresses = '*'\nssl = on\nssl_min_protocol_version = 'TLSv1.2'\npassword_encryption = scram-sha-256\n"
	goodHba  = "local all postgres peer\nhostssl all all 10.0.0.0/16 scram-sha-256\nhostssl replication replicator 10.0.128.0/21 scram-sha-256\n"
)

func cloudConfig(conf, hba string) string {
	return writeFiles("/etc/postgresql/15/main/postgresql.conf", conf, "/etc/postgresql/15/main/pg_hba.conf", hba)
}

// writeFiles is a cloud-config that writes each path of pathContents with the content after it.
func writeFiles(pathContents ...string) string {
	out := "#cloud-config\nwrite_files:\n"
	for i := 0; i+1 < len(pathContents); i += 2 {
		out += "  - path: " + pathContents[i] + "\n    content: |\n      " +
			strings.ReplaceAll(strings.TrimRight(pathContents[i+1], "\n"), "\n", "\n      ") + "\n"
	}
	return out
}

func TestDbTLSOnly(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &dbTLSOnly, fx{typ: tInstance, name: "db-primary", props: map[string]any{
		"tags": map[string]any{"Role": "database"}, "userData": cloudConfig(goodConf, goodHba)}}, []change{
		{"ssl off", "userData", cloudConfig(strings.Replace(goodConf, "ssl = on", "ssl = off", 1), goodHba),
			[]string{`userData: postgresql.conf sets ssl = "off"; set ssl = on`}},
		{"tls 1.0", "userData", cloudConfig(strings.Replace(goodConf, "TLSv1.2", "TLSv1", 1), goodHba),
			[]string{`userData: postgresql.conf sets ssl_min_protocol_version = "TLSv1"; set it to 'TLSv1.2' or 'TLSv1.3'`}},
		{"plain host line", "userData", cloudConfig(goodConf, goodHba+"host all all 0.0.0.0/0 scram-sha-256\n"),
			[]string{`userData: pg_hba.conf line 4 is "host": it admits connections without TLS; use hostssl`}},
		{"replication without tls", "userData", cloudConfig(goodConf, strings.Replace(goodHba, "hostssl replication", "hostnossl replication", 1)),
			[]string{`userData: pg_hba.conf line 3 is "hostnossl": it admits connections without TLS; use hostssl`}},
		{"no configuration", "userData", "#!/bin/sh\necho hello\n",
			[]string{"userData: the database host's user data carries no postgresql.conf and pg_hba.conf, so TLS-only access cannot be shown"}},
		{"not a database host", "tags.Role", "web", nil},
		{"unknown user data", "userData", unknown, []string{"userData: userData cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}

func TestDbTLSOnlyReadsCompressedUserData(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(cloudConfig(strings.Replace(goodConf, "ssl = on", "ssl = off", 1), goodHba)))
	zw.Close()
	r := fx{typ: tLaunchTemplate, name: "db", props: map[string]any{"tags": map[string]any{"Role": "database"},
		"userData": base64.StdEncoding.EncodeToString(buf.Bytes())}}.resource()
	got := render(engine.CheckResource(&dbTLSOnly, r, engine.Config{}))
	if len(got) != 1 || got[0] != `userData: postgresql.conf sets ssl = "off"; set ssl = on` {
		t.Errorf("gzip+base64 user data: %q", got)
	}
	broken := fx{typ: tLaunchTemplate, name: "db", props: map[string]any{"tags": map[string]any{"Role": "database"},
		"userData": base64.StdEncoding.EncodeToString(buf.Bytes()[:20])}}.resource()
	got = render(engine.CheckResource(&dbTLSOnly, broken, engine.Config{}))
	if len(got) != 1 || !strings.HasPrefix(got[0], "userData: the database host's user data cannot be read (user data is not valid gzip") {
		t.Errorf("truncated gzip user data: %q", got)
	}
}
