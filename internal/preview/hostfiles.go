package preview

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/offline"
)

// HostFiles decodes what a host of the preview will run: the user data of the instance or launch
// template named host, gzipped or not, and, for cloud-config, each file it writes by path. A plain script
// is returned as "user-data".
func HostFiles(resources []offline.Resource, host string) (map[string]string, error) {
	var hosts []string
	for _, r := range resources {
		if r.Type != "aws:ec2/instance:Instance" && r.Type != "aws:ec2/launchTemplate:LaunchTemplate" {
			continue
		}
		hosts = append(hosts, r.Name)
		if r.Name != host {
			continue
		}
		encoded := r.String("userDataBase64")
		if encoded == "" {
			encoded = r.String("userData")
		}
		return decodeUserData(encoded)
	}
	slices.Sort(hosts)
	return nil, &InputError{fmt.Errorf("no host %q in the preview; the hosts are %s", host, strings.Join(hosts, ", "))}
}

func decodeUserData(encoded string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("user data is not base64: %w", err)
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	if !bytes.HasPrefix(raw, []byte("#cloud-config")) {
		return map[string]string{"user-data": string(raw)}, nil
	}
	var doc struct {
		WriteFiles []struct{ Path, Content string } `yaml:"write_files"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("user data is not cloud-config: %w", err)
	}
	files := map[string]string{}
	for _, f := range doc.WriteFiles {
		files[f.Path] = f.Content
	}
	return files, nil
}
