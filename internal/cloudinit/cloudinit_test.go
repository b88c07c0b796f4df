package cloudinit

import (
	"encoding/base64"
	"encoding/json"
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
