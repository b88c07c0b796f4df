// Package naming is the one place names and tags are made: every resource is named
// {project}-{stack}-{name} and tagged with its Name, Environment and DataClass, so that a bill, an audit
// finding or a CloudTrail event leads straight back to the stack and the data it holds.
package naming

import (
	"maps"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Data classes: PHI marks stores that may hold protected health information; Synthetic marks a demo
// stack's stores, which hold made-up data only.
const (
	PHI       = "phi"
	Synthetic = "synthetic"
)

// Tags that say what a resource is for. The components set them and the policy pack reads them, so they
// are defined here, once.
const (
	// DataClassTag says what data a store may hold: PHI or Synthetic.
	DataClassTag = "DataClass"
	// TierTag names a subnet's tier; only TierPublic subnets may route to the internet gateway.
	TierTag, TierPublic = "Tier", "public"
	// EdgeTag marks the one kind of security group that may accept traffic from the world.
	EdgeTag, EdgeValue = "Exposure", "edge"
	// PurposeTag says what a bucket holds; PurposeBackups buckets hold database backups.
	PurposeTag, PurposeBackups = "Purpose", "backups"
	// PurposeLoadBalancerLogs marks the one bucket encrypted with S3-managed keys: Elastic Load Balancing
	// delivers access logs to no other kind.
	PurposeLoadBalancerLogs = "lb-logs"
	// RoleTag names a host's role; RoleDatabase hosts run Postgres.
	RoleTag, RoleDatabase = "Role", "database"
	// ImageBuilderArnTag records on a host the Image Builder image it booted from: the tag Image Builder
	// puts on every AMI it makes ("Tag Image Builder output resources", EC2 Image Builder user guide).
	ImageBuilderArnTag = "Ec2ImageBuilderArn"
	// RotationDaysTag declares on a secret that its users rotate it themselves (PutSecretValue, which
	// Secrets Manager counts as a rotation: RotationRulesType, Secrets Manager API reference) at least
	// every so many days, rather than through a Secrets Manager rotation.
	RotationDaysTag = "RotationDays"
)

// Namer names and tags the resources of one stack.
type Namer struct {
	Project   string
	Stack     string
	DataClass string
}

// Name returns the stack-qualified name of a top-level resource: {project}-{stack}-{name}.
func (n Namer) Name(name string) string {
	return n.Project + "-" + n.Stack + "-" + name
}

// Tags returns the tags every resource of the stack carries.
func (n Namer) Tags() map[string]string {
	return map[string]string{
		"Project":     n.Project,
		"Environment": n.Stack,
		DataClassTag:  n.DataClass,
	}
}

// Tags returns base plus a Name tag, for a component to put on one of its children.
func Tags(base map[string]string, name string) pulumi.StringMap {
	return pulumi.ToStringMap(TagMap(base, name))
}

// TagMap is Tags as a plain map.
func TagMap(base map[string]string, name string) map[string]string {
	t := maps.Clone(base)
	if t == nil {
		t = map[string]string{}
	}
	t["Name"] = name
	return t
}
