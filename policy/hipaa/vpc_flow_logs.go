package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var vpcFlowLogs = engine.Rule{
	ID:          "vpc-flow-logs",
	Description: "Every VPC has a flow log of ALL traffic into an encrypted, retained log group",
	Citations:   []string{"164.312(b)", "164.308(a)(1)(ii)(D)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"vpc-flow-logs-enabled"},
		Prowler:     []string{"vpc_flow_logs_enabled"},
	},
	Fix:   "Declare an aws.ec2.FlowLog for the VPC with trafficType ALL into a log group with kmsKeyId and retentionInDays.",
	Types: []string{tVpc},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, vpc := range s.OfType(tVpc) {
			logs := s.Referencing(vpc, tFlowLog, "vpcId")
			var all bool
			for _, fl := range logs {
				switch t := fl.Get("trafficType"); {
				case t.Unknown():
					c.UnknownOn(fl.URN, "trafficType")
					all = true
				case t.Str() == "ALL":
					all = true
					checkFlowLogGroup(c, s, fl)
				}
			}
			if !all {
				c.FailOn(vpc.URN, "", "the VPC has no flow log of ALL traffic")
			}
		}
	},
}

func checkFlowLogGroup(c *engine.Check, s *engine.Stack, fl *engine.Resource) {
	if fl.Get("logDestinationType").Str() == "s3" {
		return // the bucket's own rules cover encryption and retention
	}
	var group *engine.Resource
	for _, key := range []string{"logDestination", "logGroupName"} {
		for _, urn := range fl.PropertyDependencies[key] {
			if r := s.ByURN(urn); r != nil && r.Type == tLogGroup {
				group = r
			}
		}
	}
	if group == nil {
		for _, g := range s.OfType(tLogGroup) {
			if dest := fl.Get("logDestination").Str(); dest != "" && (dest == g.Get("arn").Str() || dest == g.Get("arn").Str()+":*") {
				group = g
			}
		}
	}
	if group == nil {
		c.FailOn(fl.URN, "logDestination", "the flow log's destination is not a log group of this stack, so its encryption and retention cannot be shown")
		return
	}
	if !group.Get("kmsKeyId").Present() {
		c.FailOn(group.URN, "kmsKeyId", "the flow-log group %s is not encrypted with a customer key", group.Name)
	}
	if !group.Get("retentionInDays").Present() {
		c.FailOn(group.URN, "retentionInDays", "the flow-log group %s has no retention set", group.Name)
	}
}
