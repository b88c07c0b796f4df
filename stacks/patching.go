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
// monitoring host installs its updates. The database hosts are scanned; they are patched in their own
// order, replicas first and the primary after a switchover, not by the window's task.
func (s *stack) patching() (err error) {
	s.Patching, err = patching.NewPatching(s.ctx, s.n.Name("patching"), &patching.PatchingArgs{
		Group:        s.patchGroup(),
		Window:       s.cfg.Monitoring.PatchWindow,
		Scan:         s.cfg.Monitoring.PatchScan,
		InstallHosts: []string{s.MonitoringHost.Name},
		Tags:         s.n.Tags(),
	})
	return err
}
