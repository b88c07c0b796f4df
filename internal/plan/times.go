package plan

import (
	"fmt"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Duration is a modeled creation time, in seconds, and where the figure comes from.
type Duration struct {
	Seconds int
	Source  string
}

// Sources of the creation times. TF is the Terraform AWS provider that pulumi-aws wraps: its waiters
// decide when Pulumi considers a resource created, and its default timeouts bound them. Observed
// figures come from public `terraform apply` logs and the provider's acceptance-test output, which
// include set-up and clean-up, so they err long.
const (
	srcAPICall = "a single synchronous API call: seconds (no waiter in the provider)"
	srcObsNet  = "observed 1-2 s each in public terraform apply logs; no provider waiter"
	srcIAM     = "API call, then the provider retries IAM's eventual consistency for up to 2 min (TF internal/service/iam/consts.go propagationTimeout); typical propagation ~10 s, unconfirmed"
)

// creationTimes are the modeled creation times by resource type. Types not listed take
// defaultCreation; a look-up or an adoption (import) takes none.
var creationTimes = map[string]Duration{
	"aws:ec2/natGateway:NatGateway":                       {120, "observed 1m24s-2m01s in 8 public terraform apply logs; the provider waits for available (TF internal/service/ec2/vpc_nat_gateway.go, default create timeout 10 min)"},
	"aws:lb/loadBalancer:LoadBalancer":                    {180, "observed 2m15s-3m10s in public apply logs; the provider waits from provisioning to active (TF internal/service/elbv2/load_balancer.go, 10 min; ELB API reference, LoadBalancerState)"},
	"aws:lb/listener:Listener":                            {3, "observed ~3 s in public apply logs"},
	"aws:lb/targetGroup:TargetGroup":                      {1, srcObsNet},
	"aws:ec2/instance:Instance":                           {60, "observed 22-52 s to running (small types) in public apply logs; the provider returns at running, before status checks (TF internal/service/ec2/ec2_instance.go, 10 min); dedicated tenancy unmeasured"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     {70, "an interface endpoint: the provider waits for available (TF internal/service/ec2/vpc_endpoint.go, 10 min); the interface endpoint acceptance test took 70 s with its VPC and clean-up (TF PR #46800)"},
	"aws:ebs/volume:Volume":                               {10, "the provider waits for available (TF docs r/ebs_volume, default 5 min); seconds for gp3, unconfirmed"},
	"aws:ec2/volumeAttachment:VolumeAttachment":           {10, "the provider waits for attached (TF docs r/volume_attachment, default 5 min); seconds, unconfirmed"},
	"aws:ec2/vpc:Vpc":                                     {2, srcObsNet},
	"aws:ec2/subnet:Subnet":                               {1, srcObsNet},
	"aws:ec2/internetGateway:InternetGateway":             {1, srcObsNet},
	"aws:ec2/routeTable:RouteTable":                       {1, srcObsNet},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {1, srcObsNet},
	"aws:ec2/eip:Eip":                                     {1, srcObsNet},
	"aws:ec2/securityGroup:SecurityGroup":                 {2, srcObsNet},
	"aws:ec2/securityGroupRule:SecurityGroupRule":         {1, srcObsNet},
	"aws:iam/role:Role":                                   {5, srcIAM},
	"aws:iam/rolePolicy:RolePolicy":                       {5, srcIAM},
	"aws:iam/policy:Policy":                               {5, srcIAM},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":   {5, srcIAM},
	"aws:iam/instanceProfile:InstanceProfile":             {10, srcIAM},
	"aws:kms/key:Key":                                     {10, "API call, then the provider waits for the key's policy and tags to read back (TF internal/service/kms/key.go); seconds, unconfirmed"},
	"aws:secretsmanager/secret:Secret":                    {2, "the secret acceptance test took 19 s with its clean-up (TF PR #14459); the call itself seconds"},
	"aws:s3/bucketV2:BucketV2":                            {2, "observed ~1 s in public apply logs"},
	"aws:cloudtrail/trail:Trail":                          {5, srcAPICall + "; unconfirmed"},
}

// defaultCreation is the time of a type the table does not list: one API call.
var defaultCreation = Duration{1, srcAPICall}

// localTypes are made by the Pulumi engine's own providers, without a cloud call.
var localTypes = map[string]bool{
	"tls:index/privateKey:PrivateKey": true, "tls:index/selfSignedCert:SelfSignedCert": true, "tls:index/certRequest:CertRequest": true,
	"tls:index/locallySignedCert:LocallySignedCert": true, "random:index/randomPassword:RandomPassword": true,
}

// groupWait is what the provider waits for after it creates an Auto Scaling group: its minimum
// capacity in service (wait_for_capacity_timeout, default 10 min, TF internal/service/autoscaling/group.go)
// and, with WaitForElbCapacity, healthy behind the load balancer. The model: an instance's launch, its
// first converge run (Docker installed and the release pulled), then the target group's health checks.
func groupWait(r offline.Resource, healthy int) Duration {
	if n, _ := r.Value("waitForElbCapacity").(float64); n > 0 {
		return Duration{60 + 120 + healthy, fmt.Sprintf("model: launch (60 s), first converge run with Docker and the release pulled (120 s, unmeasured), "+
			"then the target group's healthy threshold (%d s); the provider waits for WaitForElbCapacity (TF internal/service/autoscaling/group.go, 10 min)", healthy)}
	}
	return Duration{60 + 30, "model: launch (60 s) and InService (30 s); the provider waits for the minimum in service (TF internal/service/autoscaling/group.go, wait_for_capacity_timeout 10 min)"}
}

// healthyAfter is how long a new target takes to be healthy: the target groups' healthy threshold
// times their interval, the slowest of them (defaults 5 and 30 s: ELB user guide, target group health
// check settings).
func healthyAfter(rs []offline.Resource) int {
	slowest := 0
	for _, r := range rs {
		if r.Type != "aws:lb/targetGroup:TargetGroup" {
			continue
		}
		threshold, interval := 5.0, 30.0
		if v, ok := r.Value("healthCheck.healthyThreshold").(float64); ok {
			threshold = v
		}
		if v, ok := r.Value("healthCheck.interval").(float64); ok {
			interval = v
		}
		slowest = max(slowest, int(threshold*interval))
	}
	return slowest
}

// creationTime is the modeled time to create r, in a stack whose targets are healthy after healthy
// seconds.
func creationTime(r offline.Resource, healthy int) Duration {
	switch {
	case !r.Custom:
		return Duration{0, "a component: nothing to create"}
	case r.Options.Import != "":
		return Duration{1, "adopted (import): one read"}
	case localTypes[r.Type]:
		return Duration{0, "made locally by the engine's provider"}
	case r.Type == "aws:autoscaling/group:Group":
		return groupWait(r, healthy)
	case r.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" && r.String("vpcEndpointType") == "Gateway":
		return Duration{20, "the provider waits for available (TF internal/service/ec2/vpc_endpoint.go, 10 min); the gateway endpoint acceptance test took 53 s with its VPC and clean-up (TF PR #46800)"}
	}
	if d, ok := creationTimes[r.Type]; ok {
		return d
	}
	return defaultCreation
}
