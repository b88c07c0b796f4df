package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestEncodeThenDecode(t *testing.T) {
	t.Parallel()
	files := []File{{Path: "/etc/a.conf", Permissions: "0600", Content: "a = 1\n"}, {Path: "/usr/local/sbin/boot", Permissions: "0700", Content: "#!/bin/sh\n"}}
	encoded, err := Encode(files, [][]string{{"/usr/local/sbin/boot"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["/etc/a.conf"] != "a = 1\n" || got["/usr/local/sbin/boot"] != "#!/bin/sh\n" {
		t.Errorf("decoded %v", got)
	}
	script, err := Decode(base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho hi\n")))
	if err != nil || script["user-data"] != "#!/bin/bash\necho hi\n" {
		t.Errorf("plain script: %v, %v", script, err)
	}
	if _, err := Decode("not base64!"); err == nil {
		t.Error("malformed user data decoded")
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFilesReadsEveryFormAnEC2PropertyHolds: plain or base64, gzipped or not, and each file in the
// encodings cloud-init's write_files takes.
func TestFilesReadsEveryFormAnEC2PropertyHolds(t *testing.T) {
	t.Parallel()
	doc := "#cloud-config\nwrite_files:\n  - path: /etc/a.conf\n    content: |\n      ssl = on\n" +
		"  - path: /etc/b\n    encoding: b64\n    content: " + base64.StdEncoding.EncodeToString([]byte("bee\n")) + "\n" +
		"  - path: /etc/c\n    encoding: gz+b64\n    content: " + base64.StdEncoding.EncodeToString(gzipped(t, "sea\n")) + "\n"
	want := map[string]string{"/etc/a.conf": "ssl = on\n", "/etc/b": "bee\n", "/etc/c": "sea\n"}
	for name, userData := range map[string]string{
		"plain":       doc,
		"base64":      base64.StdEncoding.EncodeToString([]byte(doc)),
		"gzip+base64": base64.StdEncoding.EncodeToString(gzipped(t, doc)),
	} {
		got, err := Files(userData)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for path, content := range want {
			if got[path] != content {
				t.Errorf("%s: %s = %q, want %q", name, path, got[path], content)
			}
		}
		text, err := Document(userData)
		if err != nil || text != doc {
			t.Errorf("%s: Document = %q, %v; want the cloud-config itself", name, text, err)
		}
	}
	if got, err := Files("#!/bin/sh\necho hello\n"); err != nil || got[ScriptKey] != "#!/bin/sh\necho hello\n" {
		t.Errorf("a plain script: %v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"broken gzip":      base64.StdEncoding.EncodeToString(gzipped(t, doc)[:20]),
		"unknown encoding": "#cloud-config\nwrite_files:\n  - path: /x\n    encoding: rot13\n    content: abc\n",
		"not yaml":         "#cloud-config\nwrite_files: [{path: /a\n",
	} {
		if _, err := Files(bad); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
	bomb := base64.StdEncoding.EncodeToString(gzipped(t, "#cloud-config\n"+strings.Repeat("#", 2<<20)))
	if _, err := Files(bomb); err == nil || !strings.Contains(err.Error(), "more than 1 MiB") {
		t.Errorf("a user data that unpacks to 2 MiB: %v", err)
	}
}

func TestAgentConfigWatchesThePathsTheAlarmsName(t *testing.T) {
	t.Parallel()
	var c struct {
		Metrics struct {
			Aggregation [][]string `json:"aggregation_dimensions"`
			Collected   struct {
				Disk struct{ Resources []string }
			} `json:"metrics_collected"`
		}
	}
	if err := json.Unmarshal([]byte(AgentConfig("/", "/var/lib/postgresql")), &c); err != nil {
		t.Fatal(err)
	}
	if r := c.Metrics.Collected.Disk.Resources; len(r) != 2 || r[1] != "/var/lib/postgresql" {
		t.Errorf("disk resources %v", r)
	}
	if a := c.Metrics.Aggregation; len(a) == 0 || len(a[0]) != 2 || a[0][0] != "InstanceId" || a[0][1] != "path" {
		t.Errorf("aggregation %v, want InstanceId and path, the disk alarms' dimensions", a)
	}
}
