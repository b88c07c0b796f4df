package preview

import (
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/refusal"
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
		return cloudinit.Decode(encoded)
	}
	slices.Sort(hosts)
	return nil, refusal.New("no host %q in the preview; the hosts are %s", host, strings.Join(hosts, ", "))
}
