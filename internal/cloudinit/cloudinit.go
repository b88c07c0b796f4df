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
	// Later keeps the file out of the first boot: the host's Systems Manager document brings it, as soon
	// as the host is managed. It is for what a host does not need to come up, so that the user data
	// stays within EC2's 16 KB.
	Later bool `yaml:"-"`
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

// AgentConfig is the CloudWatch agent's configuration for a host that ships no logs.
func AgentConfig(paths ...string) string { return Agent{DiskPaths: paths}.Config() }

// Agent is what a host's CloudWatch agent collects: memory, and the disk use of each of DiskPaths, every
// minute; and each of Logs, into LogGroup. Each metric carries the InstanceId dimension, and disk use is
// also aggregated by InstanceId and path alone, which is what the platform's disk alarms name.
type Agent struct {
	DiskPaths []string
	LogGroup  string
	Logs      []LogFile
}

// LogFile is a file the agent ships, to the stream named by the instance and Stream.
type LogFile struct{ Path, Stream string }

// Config is the agent's JSON configuration.
func (a Agent) Config() string {
	type collect struct {
		FilePath      string `json:"file_path"`
		LogGroupName  string `json:"log_group_name"`
		LogStreamName string `json:"log_stream_name"`
	}
	config := map[string]any{
		// The agent runs as root, its default on Linux ("Running the CloudWatch agent as a different
		// user", CloudWatch User Guide): the files it ships are postgres's (log_file_mode 0600) and root's
		// (/var/log/hipaa, 0750), which the package's cwagent user cannot read.
		"agent": map[string]any{"metrics_collection_interval": 60},
		"metrics": map[string]any{
			"namespace":              "CWAgent",
			"append_dimensions":      map[string]string{"InstanceId": "${aws:InstanceId}"},
			"aggregation_dimensions": [][]string{{"InstanceId", "path"}, {"InstanceId"}},
			"metrics_collected": map[string]any{
				"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": a.DiskPaths, "drop_device": true},
				"mem":  map[string]any{"measurement": []string{"used_percent"}},
			},
		},
	}
	if len(a.Logs) > 0 {
		var list []collect
		for _, l := range a.Logs {
			list = append(list, collect{FilePath: l.Path, LogGroupName: a.LogGroup, LogStreamName: "{instance_id}/" + l.Stream})
		}
		config["logs"] = map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": list}}}
	}
	out, _ := json.MarshalIndent(config, "", "  ") // maps of plain values always marshal, keys sorted
	return string(out) + "\n"
}
