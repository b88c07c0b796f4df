package hipaa

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// adminPorts are administrative and data-store ports that are never opened to the world.
var adminPorts = map[int]string{
	20: "FTP data", 21: "FTP", 22: "SSH", 23: "Telnet", 135: "RPC", 139: "NetBIOS", 445: "SMB",
	1433: "SQL Server", 1521: "Oracle", 2375: "Docker", 2376: "Docker TLS", 3306: "MySQL", 3389: "RDP",
	5432: "PostgreSQL", 5439: "Redshift", 5666: "NRPE", 5900: "VNC", 6379: "Redis", 9200: "Elasticsearch",
	10250: "kubelet", 11211: "memcached", 27017: "MongoDB",
}

var adminPortList = slices.Sorted(maps.Keys(adminPorts))

var sgNoPublicAdminPorts = engine.Rule{
	ID:          "sg-no-public-admin-ports",
	Description: "No ingress from 0.0.0.0/0 or ::/0 covers an administrative or data-store port",
	Citations:   []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"restricted-ssh", "restricted-common-ports"},
		Prowler:     []string{"ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22", "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389", "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_postgres_5432", "ec2_securitygroup_allow_ingress_from_internet_to_high_risk_tcp_ports"},
	},
	Fix:   "Remove the world-open rule; reach hosts through SSM Session Manager and admit data-store clients by security group.",
	Types: []string{tSecurityGroup, tSecurityGroupRule, tIngressRule},
	Resource: func(c *engine.Check, r *engine.Resource) {
		for _, p := range ingresses(r) {
			if p.unknown {
				if p.world() {
					c.Unknown(p.prop("fromPort"))
				}
				continue
			}
			if !p.world() {
				continue
			}
			var covered []string
			for _, port := range adminPortList {
				if p.covers(port) {
					covered = append(covered, fmt.Sprintf("%d (%s)", port, adminPorts[port]))
				}
			}
			if len(covered) > 0 {
				c.Fail(p.prop("fromPort"), "ingress from the world on ports %s covers %s; admit only named security groups there",
					p.ports(), strings.Join(covered, ", "))
			}
		}
	},
}
