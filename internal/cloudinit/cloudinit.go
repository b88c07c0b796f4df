// Package cloudinit packs a host's first-boot setup as EC2 user data: cloud-config that writes files
// and runs commands, gzip-compressed and base64-encoded as userDataBase64 takes it, so the largest setup
// stays well inside EC2's 16 KB. It is also the one reader of such user data (Decode, Files, Document),
// for the preview, the policy pack and the tests: base64 or not, gzipped or not, each file decoded from
// its encoding, with a fast reader of the block style it writes (fast.go) and YAML for any other. And it
// writes the CloudWatch agent configuration every host carries.
package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"

	"gopkg.in/yaml.v3"
)

// File is one file the host writes at first boot.
type File struct {
	Path        string `yaml:"path"`
	Permissions string `yaml:"permissions"`
	Content     string `yaml:"content"`
}

// Encode packs files and the commands to run after writing them.
func Encode(files []File, runcmd [][]string) (string, error) {
	doc, err := yaml.Marshal(map[string]any{"write_files": files, "runcmd": runcmd})
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // the level is valid
	if _, err := zw.Write(append([]byte("#cloud-config\n"), doc...)); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// AgentConfig is the CloudWatch agent's configuration for a host: memory, and the disk use of each of
// paths, every minute. Each metric carries the InstanceId dimension, and disk use is also aggregated by
// InstanceId and path alone, which is what the platform's disk alarms name.
func AgentConfig(paths ...string) string {
	resources, _ := json.Marshal(paths) // a list of strings always marshals
	return `{
  "agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent"},
  "metrics": {
    "namespace": "CWAgent",
    "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
    "aggregation_dimensions": [["InstanceId", "path"], ["InstanceId"]],
    "metrics_collected": {
      "disk": {"measurement": ["used_percent"], "resources": ` + string(resources) + `, "drop_device": true},
      "mem": {"measurement": ["used_percent"]}
    }
  }
}
`
}
