package app

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:app:Tier"

// Bounds of the dials, which the stack configuration checks too.
const (
	MaxSize                                    = 100
	MinCPUTarget, MaxCPUTarget                 = 20, 90
	MinRequestsPerTarget, MaxRequestsPerTarget = 10, 100000
)

// DefaultHealthPath is where the load balancer and monitoring ask a web host whether it is healthy.
const DefaultHealthPath = "/healthz"

// Defaults.
const (
	defaultHostPort         = 443
	defaultContainerPort    = 8443
	defaultCPUTarget        = 60
	defaultRequests         = 1000
	defaultSslPolicy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	defaultWarmupSeconds    = 300
	rootVolumeGiB           = 30
	deregistrationDelaySecs = 60
)

// LoadBalancer puts the tier behind an application load balancer.
type LoadBalancer struct {
	// SubnetIds are the public subnets, in at least two zones. Required.
	SubnetIds []pulumi.StringInput
	// SecurityGroupId is the load balancer's edge group. Required.
	SecurityGroupId pulumi.StringInput
	// CertificateArn is the ACM certificate served on HTTPS. Required.
	CertificateArn string
	// SslPolicy is the HTTPS listener's security policy, one allowing only TLS 1.2 or newer. Optional;
	// default ELBSecurityPolicy-TLS13-1-2-2021-06.
	SslPolicy string
	// LogBucket is the name of the bucket that receives the access logs (one encrypted with SSE-S3, the
	// only kind load balancers deliver to). Required.
	LogBucket pulumi.StringInput
	// LogPrefix is the key prefix of the access logs. Required; the bucket policy must let the region's
	// load balancing account write under it.
	LogPrefix string
	// LogBucketReady are the log bucket's resources the load balancer is created after: Elastic Load
	// Balancing refuses to turn access logs on until the bucket's policy lets it write. Optional.
	LogBucketReady []pulumi.Resource
	// DeletionProtection refuses to delete the load balancer until it is turned off. Optional.
	DeletionProtection bool
	// HealthCheckPath is the HTTPS path the load balancer checks each host on. Optional; default /healthz.
	HealthCheckPath string
	// RequestsPerTarget is the request count per host per minute that scaling aims for, 10 to 100000.
	// Optional; default 1000.
	RequestsPerTarget int
	// RateLimit is how many requests one address may make in five minutes before AWS WAF blocks it, 10 to
	// 2,000,000,000. Optional; default 2000.
	RateLimit int
}

// TierArgs configures the tier.
type TierArgs struct {
	// Role names the tier's work, passed to the container as PLATFORM_ROLE (web, engine). Required.
	Role string
	// Image is the release to run, by digest (registry/repository@sha256:...). Required.
	Image pulumi.StringInput
	// RepositoryArn is the registry repository the hosts may pull from, and nothing else. Required.
	RepositoryArn pulumi.StringInput
	// InstanceType is the hosts' EC2 type, a family that runs with dedicated tenancy. Required.
	InstanceType string
	// AmiId is the hosts' image: Amazon Linux 2023 (dnf, the AWS CLI and the Systems Manager agent);
	// Docker and the CloudWatch agent are installed at first boot when the image lacks them. Required.
	AmiId pulumi.StringInput
	// Subnets are the private subnets the hosts run in, one or more zones. Required.
	Subnets []network.SubnetInfo
	// VpcId is the VPC, for the target group. Required with LoadBalancer.
	VpcId pulumi.StringInput
	// SecurityGroupId is the hosts' group. Required.
	SecurityGroupId pulumi.StringInput
	// EbsKeyArn encrypts the root volumes. Required.
	EbsKeyArn pulumi.StringInput
	// Secrets are the Secrets Manager secrets the hosts fetch for the container, which reads each from a
	// file; SecretsKeyArn is their key. The hosts' role may read these and no others. Optional, but
	// SecretsKeyArn is required with Secrets.
	Secrets       []Secret
	SecretsKeyArn pulumi.StringInput
	// Files are further files the container reads, not secret (a CA certificate). Optional.
	Files []File
	// LogsKeyArn encrypts the container log group, kept LogRetentionDays. Required.
	LogsKeyArn       pulumi.StringInput
	LogRetentionDays int
	// Environment is passed to the container; never secrets, which the container reads from Secrets'
	// files. Optional.
	Environment map[string]pulumi.StringInput
	// MinSize and MaxSize bound the group, 1 to 100. Required.
	MinSize, MaxSize int
	// CPUTarget is the average CPU percentage scaling aims for without a load balancer, 20 to 90. Optional;
	// default 60.
	CPUTarget int
	// LoadBalancer puts the tier behind a load balancer and scales it on requests. Optional.
	LoadBalancer *LoadBalancer
	// Region is the tier's region. Required.
	Region string
	// Tags are added to every resource. Optional.
	Tags map[string]string
	// NetworkPaths are the routes and endpoints the hosts reach AWS through as they boot
	// (network.Vpc.Paths): the group, which launches them, is created after them. Optional.
	NetworkPaths []pulumi.Resource
	// LaunchTags are added to the instances the group launches and their volumes, beyond Tags: the
	// provider's default tags (the stack's Owner, a demo's ExpiresAt) reach the launch template itself,
	// not what it launches. Optional.
	LaunchTags map[string]string
}

// Secret is a secret the host fetches for its container, and keeps current: the container finds it in
// the file ContainerDir/File, named by the environment variable Env.
type Secret struct {
	Env, File string
	Arn       pulumi.StringInput
}

// File is a file the host writes for its container, found as ContainerDir/File, named by Env.
type File struct {
	Env, File string
	Content   pulumi.StringInput
}

// Tier is one tier of hosts.
type Tier struct {
	pulumi.ResourceState

	// Name is the tier's name: its hosts publish their Converged metric under it.
	Name string

	// GroupName is the Auto Scaling group's name.
	GroupName pulumi.StringOutput `pulumi:"groupName"`
	// LaunchTemplateId is the launch template's ID.
	LaunchTemplateId pulumi.StringOutput `pulumi:"launchTemplateId"`
	// LogGroupName is the container log group's name.
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
	// DnsName is the load balancer's DNS name; empty without one.
	DnsName pulumi.StringOutput `pulumi:"dnsName"`
	// LoadBalancerArnSuffix and TargetGroupArnSuffix name the load balancer and target group in
	// CloudWatch metrics; empty without a load balancer.
	LoadBalancerArnSuffix pulumi.StringOutput `pulumi:"loadBalancerArnSuffix"`
	TargetGroupArnSuffix  pulumi.StringOutput `pulumi:"targetGroupArnSuffix"`
}

var (
	role       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,15}$`)
	healthPath = regexp.MustCompile(`^/[A-Za-z0-9/_.-]*$`)
	logPrefix  = regexp.MustCompile(`^[a-z0-9][a-z0-9/-]*[a-z0-9]$`)
	envName    = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	fileName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

func (a *TierArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("app %q: args are required", name)
	}
	fail := func(format string, v ...any) error {
		return fmt.Errorf("app %q: %s", name, fmt.Sprintf(format, v...))
	}
	switch {
	case !role.MatchString(a.Role):
		return fail("Role %q must be a short lower-case word such as web or engine", a.Role)
	case a.Image == nil:
		return fail("Image is required: the release to run, by digest")
	case a.RepositoryArn == nil:
		return fail("RepositoryArn is required: the only repository the hosts may pull from")
	case a.AmiId == nil:
		return fail("AmiId is required")
	case len(a.Subnets) == 0:
		return fail("Subnets is required: the private subnets the hosts run in")
	case a.SecurityGroupId == nil:
		return fail("SecurityGroupId is required")
	case a.EbsKeyArn == nil:
		return fail("EbsKeyArn is required: root volumes are encrypted with the customer key")
	case a.LogsKeyArn == nil:
		return fail("LogsKeyArn is required: the container logs are encrypted with the customer key")
	case len(a.Secrets) > 0 && a.SecretsKeyArn == nil:
		return fail("SecretsKeyArn is required with Secrets")
	case a.Region == "":
		return fail("Region is required")
	}
	if err := check.DedicatedInstanceType(a.InstanceType); err != nil {
		return fail("InstanceType: %v", err)
	}
	if err := check.LogRetention(a.LogRetentionDays); err != nil {
		return fail("LogRetentionDays: %v", err)
	}
	if err := check.Between(1, MaxSize)(a.MinSize); err != nil {
		return fail("MinSize: %v", err)
	}
	if err := check.Between(a.MinSize, MaxSize)(a.MaxSize); err != nil {
		return fail("MaxSize: %v", err)
	}
	if a.CPUTarget != 0 {
		if err := check.Between(MinCPUTarget, MaxCPUTarget)(a.CPUTarget); err != nil {
			return fail("CPUTarget: %v", err)
		}
	}
	seen := map[string]string{}
	for k := range a.Environment {
		if !envName.MatchString(k) {
			return fail("Environment key %q must be upper-case letters, digits and _", k)
		}
		seen[k] = "Environment"
	}
	named := func(field, env, file string, set bool) error {
		switch {
		case !envName.MatchString(env):
			return fail("%s Env %q must be upper-case letters, digits and _", field, env)
		case !fileName.MatchString(file) || file == "tls.key" || file == "tls.crt":
			return fail("%s File %q must be a plain file name (letters, digits, . - _), not tls.key or tls.crt", field, file)
		case !set:
			return fail("%s %s needs its value", field, env)
		case seen[env] != "":
			return fail("%s Env %s is also set by %s", field, env, seen[env])
		case seen["file:"+file] != "":
			return fail("%s File %s is also written for %s", field, file, seen["file:"+file])
		}
		seen[env], seen["file:"+file] = field, env
		return nil
	}
	for _, sec := range a.Secrets {
		if err := named("Secrets", sec.Env, sec.File, sec.Arn != nil); err != nil {
			return err
		}
	}
	for _, f := range a.Files {
		if err := named("Files", f.Env, f.File, f.Content != nil); err != nil {
			return err
		}
	}
	if lb := a.LoadBalancer; lb != nil {
		switch {
		case a.VpcId == nil:
			return fail("VpcId is required with LoadBalancer")
		case len(lb.SubnetIds) < 2:
			return fail("LoadBalancer.SubnetIds has %d subnets; an application load balancer needs at least 2, in different zones", len(lb.SubnetIds))
		case lb.SecurityGroupId == nil:
			return fail("LoadBalancer.SecurityGroupId is required")
		case check.CertificateArn(lb.CertificateArn) != nil:
			return fail("LoadBalancer.CertificateArn: %v", check.CertificateArn(lb.CertificateArn))
		case lb.SslPolicy != "" && !check.ModernTLSPolicy(lb.SslPolicy):
			return fail("LoadBalancer.SslPolicy %q allows TLS older than 1.2; want one such as %s", lb.SslPolicy, defaultSslPolicy)
		case lb.LogBucket == nil:
			return fail("LoadBalancer.LogBucket is required: every request is logged")
		case !logPrefix.MatchString(lb.LogPrefix):
			return fail("LoadBalancer.LogPrefix %q must be lower-case letters, digits, - and /, not starting or ending with /", lb.LogPrefix)
		case lb.HealthCheckPath != "" && !healthPath.MatchString(lb.HealthCheckPath):
			return fail("LoadBalancer.HealthCheckPath %q must be an absolute path", lb.HealthCheckPath)
		}
		if lb.RequestsPerTarget != 0 {
			if err := check.Between(MinRequestsPerTarget, MaxRequestsPerTarget)(lb.RequestsPerTarget); err != nil {
				return fail("LoadBalancer.RequestsPerTarget: %v", err)
			}
		}
		if lb.RateLimit != 0 {
			if err := check.Between(MinRateLimit, MaxRateLimit)(lb.RateLimit); err != nil {
				return fail("LoadBalancer.RateLimit: %v", err)
			}
		}
	}
	return nil
}

func (a TierArgs) withDefaults() TierArgs {
	if a.CPUTarget == 0 {
		a.CPUTarget = defaultCPUTarget
	}
	if lb := a.LoadBalancer; lb != nil {
		c := *lb
		if c.SslPolicy == "" {
			c.SslPolicy = defaultSslPolicy
		}
		if c.HealthCheckPath == "" {
			c.HealthCheckPath = DefaultHealthPath
		}
		if c.RequestsPerTarget == 0 {
			c.RequestsPerTarget = defaultRequests
		}
		if c.RateLimit == 0 {
			c.RateLimit = defaultRateLimit
		}
		a.LoadBalancer = &c
	}
	return a
}

// NewTier creates the tier: its identity, log group, launch template, group, scaling and, when asked,
// its load balancer.
func NewTier(ctx *pulumi.Context, name string, args *TierArgs, opts ...pulumi.ResourceOption) (*Tier, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()

	comp := &Tier{Name: name}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/" + name + "/containers"),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            naming.Tags(a.Tags, name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the log group: %w", err)
	}
	identity, err := hostrole.New(ctx, name, a.Role+" tier hosts of "+name, hostPolicy(&a, logs.Arn), a.Tags, parent)
	if err != nil {
		return nil, err
	}
	template, err := launchTemplate(ctx, name, &a, identity, logs.Name, parent)
	if err != nil {
		return nil, err
	}

	comp.DnsName = pulumi.String("").ToStringOutput()
	comp.LoadBalancerArnSuffix = pulumi.String("").ToStringOutput()
	comp.TargetGroupArnSuffix = pulumi.String("").ToStringOutput()
	var front *frontEnd
	if a.LoadBalancer != nil {
		if front, err = newFrontEnd(ctx, name, &a, parent); err != nil {
			return nil, err
		}
		comp.DnsName = front.lb.DnsName
		comp.LoadBalancerArnSuffix = front.lb.ArnSuffix
		comp.TargetGroupArnSuffix = front.targets.ArnSuffix
	}
	group, err := newGroup(ctx, name, &a, template, front, parent)
	if err != nil {
		return nil, err
	}
	if err := scaling(ctx, name, &a, group, front, parent); err != nil {
		return nil, err
	}

	comp.GroupName = group.Name
	comp.LaunchTemplateId = template.ID().ToStringOutput()
	comp.LogGroupName = logs.Name
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"groupName":             comp.GroupName,
		"launchTemplateId":      comp.LaunchTemplateId,
		"logGroupName":          comp.LogGroupName,
		"dnsName":               comp.DnsName,
		"loadBalancerArnSuffix": comp.LoadBalancerArnSuffix,
		"targetGroupArnSuffix":  comp.TargetGroupArnSuffix,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// launchTemplate describes every host of the tier. A new release or image is a new template version,
// which the group's instance refresh rolls out.
func launchTemplate(ctx *pulumi.Context, name string, a *TierArgs, identity *hostrole.Role, logGroup pulumi.StringOutput, parent pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	tags := naming.Tags(a.Tags, name)
	for k, v := range a.LaunchTags {
		tags[k] = pulumi.String(v)
	}
	tags["Tier"] = pulumi.String(a.Role)
	return identity.NewLaunchTemplate(ctx, name, hostrole.LaunchTemplate{
		Description: pulumi.Sprintf("%s tier of %s", a.Role, name),
		Ami:         a.AmiId, InstanceType: a.InstanceType, SecurityGroupId: a.SecurityGroupId,
		EbsKeyArn: a.EbsKeyArn, RootVolumeGiB: rootVolumeGiB,
		UserData:   UserData(name, a, logGroup),
		LaunchTags: tags, Tags: naming.Tags(a.Tags, name),
	}, parent)
}

// newGroup creates the Auto Scaling group. A change of launch template version starts a rolling
// instance refresh that launches replacements before it terminates (healthy capacity stays at 100%, up
// to 200% during the change), waits for them to pass the load balancer's health check, and rolls back by
// itself if the new release does not become healthy.
func newGroup(ctx *pulumi.Context, name string, a *TierArgs, template *ec2.LaunchTemplate, front *frontEnd, parent pulumi.ResourceOption) (*autoscaling.Group, error) {
	subnets := pulumi.StringArray{}
	for _, s := range a.Subnets {
		subnets = append(subnets, s.ID)
	}
	// In key order: a list built from a map in its iteration order would differ from one run to the
	// next, and every preview and update would show a change.
	tags := autoscaling.GroupTagArray{}
	groupTags := naming.Tags(a.Tags, name)
	for _, k := range slices.Sorted(maps.Keys(groupTags)) {
		tags = append(tags, autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: groupTags[k], PropagateAtLaunch: pulumi.Bool(false)})
	}
	args := &autoscaling.GroupArgs{
		Name:               pulumi.String(name),
		VpcZoneIdentifiers: subnets,
		MinSize:            pulumi.Int(a.MinSize),
		MaxSize:            pulumi.Int(a.MaxSize),
		LaunchTemplate: autoscaling.GroupLaunchTemplateArgs{
			Id:      template.ID(),
			Version: template.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
		HealthCheckType:        pulumi.String("EC2"),
		HealthCheckGracePeriod: pulumi.Int(defaultWarmupSeconds),
		DefaultInstanceWarmup:  pulumi.Int(defaultWarmupSeconds),
		InstanceMaintenancePolicy: autoscaling.GroupInstanceMaintenancePolicyArgs{
			MinHealthyPercentage: pulumi.Int(100), MaxHealthyPercentage: pulumi.Int(200),
		},
		InstanceRefresh: autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(100),
				MaxHealthyPercentage: pulumi.Int(200),
				InstanceWarmup:       pulumi.String(fmt.Sprint(defaultWarmupSeconds)),
				SkipMatching:         pulumi.Bool(true),
				AutoRollback:         pulumi.Bool(true),
			},
		},
		EnabledMetrics: pulumi.ToStringArray([]string{"GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances"}),
		Tags:           tags,
	}
	after := slices.Clone(a.NetworkPaths)
	if front != nil {
		args.HealthCheckType = pulumi.String("ELB")
		args.TargetGroupArns = pulumi.StringArray{front.targets.Arn}
		args.WaitForElbCapacity = pulumi.Int(a.MinSize)
		after = append(after, front.https)
	}
	opts := []pulumi.ResourceOption{parent, pulumi.IgnoreChanges([]string{"desiredCapacity"}), pulumi.DependsOn(after)}
	g, err := autoscaling.NewGroup(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Auto Scaling group: %w", err)
	}
	return g, nil
}

// scaling keeps request count per host (behind a load balancer) or average CPU at its target.
func scaling(ctx *pulumi.Context, name string, a *TierArgs, group *autoscaling.Group, front *frontEnd, parent pulumi.ResourceOption) error {
	target := autoscaling.PolicyTargetTrackingConfigurationArgs{
		PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
		},
		TargetValue: pulumi.Float64(float64(a.CPUTarget)),
	}
	if front != nil {
		target = autoscaling.PolicyTargetTrackingConfigurationArgs{
			PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String("ALBRequestCountPerTarget"),
				ResourceLabel:        pulumi.Sprintf("%s/%s", front.lb.ArnSuffix, front.targets.ArnSuffix),
			},
			TargetValue: pulumi.Float64(float64(a.LoadBalancer.RequestsPerTarget)),
		}
	}
	if _, err := autoscaling.NewPolicy(ctx, name+"-target", &autoscaling.PolicyArgs{
		AutoscalingGroupName:        group.Name,
		PolicyType:                  pulumi.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup:     pulumi.Int(defaultWarmupSeconds),
		TargetTrackingConfiguration: target,
	}, parent); err != nil {
		return fmt.Errorf("creating the scaling policy: %w", err)
	}
	return nil
}
