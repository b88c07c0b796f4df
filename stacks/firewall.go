package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/firewall"
	"github.com/hipaa-platform/platform/components/network"
)

// Security group names; the later tiers (app, engine, database, monitoring) place their hosts in these.
const (
	SgLoadBalancer = "alb"
	SgApp          = "app"
	SgEngine       = "engine"
	SgDatabase     = "db"
	SgMonitoring   = "monitoring"
	sgEndpoints    = "endpoints"
)

// Groups are the security groups the later components place their hosts and load balancer in.
type Groups struct {
	LoadBalancer, App, Engine, Database, Monitoring pulumi.StringOutput
}

// firewall creates the security groups and the rules between them, then takes each group the
// components need by name, so that a name missing from the traffic matrix is an error here.
func (s *stack) firewall() (err error) {
	if s.Firewall, err = firewall.NewSecurityGroups(s.ctx, s.n.Name("sg"), firewallArgs(s.Network, s.cfg.Database.Replicas, s.n.Tags())); err != nil {
		return err
	}
	for _, g := range []struct {
		name string
		id   *pulumi.StringOutput
	}{
		{SgLoadBalancer, &s.Groups.LoadBalancer}, {SgApp, &s.Groups.App}, {SgEngine, &s.Groups.Engine},
		{SgDatabase, &s.Groups.Database}, {SgMonitoring, &s.Groups.Monitoring},
	} {
		if *g.id, err = s.Firewall.ID(g.name); err != nil {
			return err
		}
	}
	return nil
}

// firewallArgs is the platform's whole traffic matrix: who may reach whom, on which port, and why. The
// database's replicas decide its cluster's: Patroni and its store between the database hosts when there
// is a replica, and with the monitoring host when it runs the store's third voter (one replica).
func firewallArgs(net *network.Vpc, dbReplicas int, tags map[string]string) *firewall.SecurityGroupsArgs {
	postgres := database.PgPort
	rules := []firewall.Rule{
		{From: firewall.World, To: SgLoadBalancer, Port: 443, Description: "clients reach the application over HTTPS"},
		{From: firewall.World, To: SgLoadBalancer, Port: 80, Description: "HTTP, answered only by a redirect to HTTPS"},
		{From: SgLoadBalancer, To: SgApp, Port: 443, Description: "the load balancer forwards to the web tier over HTTPS"},
		{From: SgApp, To: SgDatabase, Port: postgres, Description: "the web tier queries Postgres over TLS"},
		{From: SgEngine, To: SgDatabase, Port: postgres, Description: "the engine tier queries Postgres over TLS"},
		{From: SgDatabase, To: SgDatabase, Port: postgres, Description: "replicas stream WAL from the primary over TLS"},
		{From: SgDatabase, To: SgDatabase, Port: database.PgBackRestTLSPort, Description: "the backup standby reaches pgBackRest on the primary over TLS"},
		{From: SgMonitoring, To: SgDatabase, Port: postgres, Description: "Nagios checks Postgres and replication over TLS"},
		{From: SgMonitoring, To: SgDatabase, Port: database.NrpePort, Description: "Nagios runs disk, load, memory, certificate and backup checks through NRPE over TLS"},
		{From: SgMonitoring, To: firewall.World, Port: 443, Description: "Nagios checks the application's public HTTPS endpoint through the NAT gateway"},
		{From: SgApp, To: firewall.World, Port: 443, Description: "the web tier calls partner APIs through the NAT gateway"},
	}
	if dbReplicas > 0 {
		rules = append(rules,
			firewall.Rule{From: SgDatabase, To: SgDatabase, Port: database.PatroniRestPort, Description: "Patroni members check each other's health and leadership through its REST API over TLS"},
			firewall.Rule{From: SgDatabase, To: SgDatabase, Port: database.EtcdClientPort, Description: "Patroni reaches the cluster's store (etcd clients) over TLS"},
			firewall.Rule{From: SgDatabase, To: SgDatabase, Port: database.EtcdPeerPort, Description: "etcd members of the cluster's store replicate over TLS"},
		)
	}
	if dbReplicas == 1 {
		rules = append(rules,
			firewall.Rule{From: SgDatabase, To: SgMonitoring, Port: database.EtcdClientPort, Description: "Patroni reaches the store's third voter on the monitoring host over TLS"},
			firewall.Rule{From: SgDatabase, To: SgMonitoring, Port: database.EtcdPeerPort, Description: "the store's members replicate with its third voter on the monitoring host over TLS"},
			firewall.Rule{From: SgMonitoring, To: SgDatabase, Port: database.EtcdPeerPort, Description: "the store's third voter on the monitoring host replicates with its members over TLS"},
		)
	}
	for _, tier := range []string{SgApp, SgEngine, SgDatabase, SgMonitoring} {
		rules = append(rules,
			firewall.Rule{From: tier, To: sgEndpoints, Port: 443, Description: "AWS APIs through interface endpoints"},
			firewall.Rule{From: tier, To: firewall.S3, Port: 443, Description: "S3 through the gateway endpoint"},
		)
	}
	return &firewall.SecurityGroupsArgs{
		VpcId: net.VpcId,
		Groups: []firewall.Group{
			{Name: SgLoadBalancer, Description: "Application load balancer", Edge: true},
			{Name: SgApp, Description: "Web tier hosts"},
			{Name: SgEngine, Description: "Engine tier hosts"},
			{Name: SgDatabase, Description: "Postgres primary and replicas"},
			{Name: SgMonitoring, Description: "Nagios monitoring hosts"},
		},
		ExistingGroups: map[string]pulumi.StringInput{sgEndpoints: net.EndpointSecurityGroupId},
		S3PrefixListId: net.S3PrefixListId,
		Rules:          rules,
		Tags:           tags,
	}
}
