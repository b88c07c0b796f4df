package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ssmHostsPatched = engine.Rule{
	ID: "ssm-hosts-patched",
	Description: "Every long-lived host is in a patch group with a baseline, a compliance scan and a maintenance window " +
		"(hosts of a launch template take patches as a new image)",
	Citations: []string{"164.308(a)(5)(ii)(B)", "164.308(a)(1)(ii)(B)"},
	Severity:  engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-managedinstance-patch-compliance-status-check", "ec2-instance-managed-by-systems-manager", "ec2-managedinstance-association-compliance-status-check"},
		Prowler:     []string{"ssm_managed_compliant_patching", "ec2_instance_managed_by_ssm"},
	},
	Fix: "Tag the instance PatchGroup=<group>, and declare an aws.ssm.PatchGroup of that group with a PatchBaseline of the stack, " +
		"an aws.ssm.Association of AWS-RunPatchBaseline (Operation Scan) targeting tag:PatchGroup, and an aws.ssm.MaintenanceWindow.",
	Types: []string{tInstance},
	Stack: func(c *engine.Check, s *engine.Stack) {
		instances := s.OfType(tInstance)
		if len(instances) == 0 {
			return
		}
		baselined, scanned := map[string]bool{}, map[string]bool{}
		for _, g := range s.OfType(tPatchGroup) {
			for _, urn := range g.PropertyDependencies["baselineId"] {
				if b := s.ByURN(urn); b != nil && b.Type == tPatchBaseline {
					baselined[g.Get("patchGroup").Str()] = true
				}
			}
		}
		for _, a := range s.OfType(tAssociation) {
			if a.Get("name").Str() != "AWS-RunPatchBaseline" || a.Get("parameters", "Operation").Str() != "Scan" {
				continue
			}
			for _, t := range a.Get("targets").Items() {
				if t.Get("key").Str() == "tag:PatchGroup" {
					for _, v := range t.Get("values").Strs() {
						scanned[v] = true
					}
				}
			}
		}
		windows := len(s.OfType(tMaintenanceWindow)) > 0
		for _, in := range instances {
			group := in.Tag("PatchGroup")
			switch {
			case group.Unknown():
				c.UnknownOn(in.URN, "tags.PatchGroup")
			case group.Str() == "":
				c.FailOn(in.URN, "tags", "the host is in no patch group (tag PatchGroup), so no baseline says which updates it must have")
			case !baselined[group.Str()]:
				c.FailOn(in.URN, "tags", "the host's patch group %s has no patch baseline of this stack", group.Str())
			case !scanned[group.Str()]:
				c.FailOn(in.URN, "tags", "no compliance scan (AWS-RunPatchBaseline, Operation Scan) covers the host's patch group %s", group.Str())
			case !windows:
				c.FailOn(in.URN, "", "the stack has no maintenance window in which the host is patched")
			}
		}
	},
}
