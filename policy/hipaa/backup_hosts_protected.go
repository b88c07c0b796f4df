package hipaa

import (
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var backupHostsProtected = engine.Rule{
	ID: "backup-hosts-protected",
	Description: "Every database host holding PHI is in an AWS Backup plan that keeps its recovery points at least the minimum " +
		"retention, in a vault encrypted with a customer key whose policy refuses their deletion",
	Citations: []string{"164.308(a)(7)(ii)(A)", "164.310(d)(2)(iv)", "164.312(c)(1)"},
	Severity:  engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-resources-protected-by-backup-plan", "ebs-in-backup-plan", "backup-plan-min-frequency-and-min-retention-check",
			"backup-recovery-point-manual-deletion-disabled", "backup-recovery-point-minimum-retention-check"},
		Prowler: []string{"backup_plans_exist", "backup_vaults_exist", "backup_vaults_encrypted"},
	},
	Fix: "Select the database hosts in an aws.backup.Selection of an aws.backup.Plan whose rule keeps recovery points " +
		"(lifecycle.deleteAfter) at least minimumDays, in an aws.backup.Vault with kmsKeyArn and an aws.backup.VaultPolicy " +
		"denying backup:DeleteRecoveryPoint to everyone (components/backup).",
	Types:  []string{tInstance, tBackupPlan},
	Params: []engine.Param{{Name: "minimumDays", Description: "the shortest retention of a recovery point, in days", Default: 30}},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, host := range s.OfType(tInstance) {
			if host.Tag(naming.RoleTag).Str() != naming.RoleDatabase || host.Tag(naming.DataClassTag).Str() == naming.Synthetic {
				continue
			}
			selections := s.Referencing(host, tBackupSelection, "resources")
			if len(selections) == 0 {
				selections = selectingByArn(s, host)
			}
			if len(selections) == 0 {
				c.FailOn(host.URN, "", "the database host is in no AWS Backup plan")
				continue
			}
			for _, sel := range selections {
				checkSelection(c, s, sel)
			}
		}
	},
}

// selectingByArn are the selections that name a host by its instance ARN, as a deployed stack's state
// holds them.
func selectingByArn(s *engine.Stack, host *engine.Resource) []*engine.Resource {
	id := host.Get("id").Str()
	if id == "" {
		return nil
	}
	var out []*engine.Resource
	for _, sel := range s.OfType(tBackupSelection) {
		if slices.ContainsFunc(sel.Get("resources").Strs(), func(arn string) bool { return strings.HasSuffix(arn, ":instance/"+id) }) {
			out = append(out, sel)
		}
	}
	return out
}

// dependency is the resource of type typ that a property of r is computed from, or nil.
func dependency(s *engine.Stack, r *engine.Resource, prop, typ string) *engine.Resource {
	for _, urn := range r.PropertyDependencies[prop] {
		if d := s.ByURN(urn); d != nil && d.Type == typ {
			return d
		}
	}
	return nil
}

// checkSelection checks the plan a selection belongs to and the vault it keeps its recovery points in.
func checkSelection(c *engine.Check, s *engine.Stack, sel *engine.Resource) {
	plan := dependency(s, sel, "planId", tBackupPlan)
	if plan == nil {
		c.FailOn(sel.URN, "planId", "the selection's plan is not one of this stack's, so its retention cannot be shown")
		return
	}
	minimum := float64(c.Int("minimumDays"))
	for _, rule := range plan.Get("rules").Items() {
		if days, ok := rule.Get("lifecycle", "deleteAfter").Num(); ok && days < minimum {
			c.FailOn(plan.URN, rule.Get("lifecycle", "deleteAfter").Path(), "recovery points are kept %v days, under the minimum of %v", days, minimum)
		}
	}
	vault := dependency(s, plan, "rules", tBackupVault)
	if vault == nil {
		c.FailOn(plan.URN, "rules", "the plan's vault is not one of this stack's, so its encryption and policy cannot be shown")
		return
	}
	if k := vault.Get("kmsKeyArn"); !k.Present() || strings.HasPrefix(k.Str(), "alias/aws/") {
		c.FailOn(vault.URN, "kmsKeyArn", "the vault is not encrypted with a customer-managed key")
	}
	for _, p := range s.Referencing(vault, tBackupVaultPolicy, "backupVaultName") {
		doc := p.Get("policy")
		if doc.Unknown() {
			return
		}
		statements, _ := statementsOf(c, p, doc)
		for _, st := range statements {
			if st.Effect == "Deny" && slices.Contains(st.Principals, "*") && slices.Contains(st.Actions, "backup:DeleteRecoveryPoint") {
				return
			}
		}
	}
	c.FailOn(vault.URN, "", "no vault policy refuses everyone backup:DeleteRecoveryPoint, so a recovery point can be deleted by hand")
}
