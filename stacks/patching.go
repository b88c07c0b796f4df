package stacks

import (
	"maps"

	"github.com/hipaa-platform/platform/components/patching"
)

// patchGroup is the stack's patch group: its database and monitoring hosts, which run for months and
// take Debian's security updates in place. The web and engine tiers take them as a new image.
func (s *stack) patchGroup() string { return s.cfg.Project + "-" + s.cfg.Stack }

// patchedHostTags are the tags of the components whose hosts are patched in place: the stack's, and the
// patch group's.
func (s *stack) patchedHostTags() map[string]string {
	tags := maps.Clone(s.n.Tags())
	tags[patching.GroupTag] = s.patchGroup()
	return tags
}

// patching declares the stack's patch baseline, compliance scan and maintenance window, in which the
// monitoring host installs its updates. A cluster's database hosts are scanned; `platformctl db patch`
// (the patch workflow, as the window opens) patches them in their own order, replicas first and the
// primary after a switchover. A lone database host has no order and no stand-in: the window patches it.
func (s *stack) patching() (err error) {
	install := []string{s.MonitoringHost.Name}
	if len(s.Database.Hosts) == 1 {
		install = append(install, s.Database.Hosts[0].Name)
	}
	s.Patching, err = patching.NewPatching(s.ctx, s.n.Name("patching"), &patching.PatchingArgs{
		Group:        s.patchGroup(),
		Window:       s.cfg.Monitoring.PatchWindow,
		Scan:         s.cfg.Monitoring.PatchScan,
		InstallHosts: install,
		Tags:         s.n.Tags(),
	})
	return err
}
