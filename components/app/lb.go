package app

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// frontEnd is the load balancer, its target group and its HTTPS listener.
type frontEnd struct {
	lb      *lb.LoadBalancer
	targets *lb.TargetGroup
	https   *lb.Listener
}

// newFrontEnd creates the load balancer behind AWS WAF. It terminates TLS with the tier's certificate,
// drops requests with invalid headers and resists request smuggling, logs every request, and re-encrypts
// to the hosts; HTTP gets a redirect and nothing else.
func newFrontEnd(ctx *pulumi.Context, name string, a *TierArgs, parent pulumi.ResourceOption) (*frontEnd, error) {
	c := a.LoadBalancer
	subnets := pulumi.StringArray{}
	subnets = append(subnets, c.SubnetIds...)
	balancer, err := lb.NewLoadBalancer(ctx, name, &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  subnets,
		SecurityGroups:           pulumi.StringArray{c.SecurityGroupId},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		DesyncMitigationMode:     pulumi.String("strictest"),
		EnableHttp2:              pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(c.DeletionProtection),
		AccessLogs: lb.LoadBalancerAccessLogsArgs{
			Bucket:  c.LogBucket,
			Prefix:  pulumi.String(c.LogPrefix),
			Enabled: pulumi.Bool(true),
		},
		Tags: naming.Tags(a.Tags, name),
	}, parent, pulumi.DependsOn(c.LogBucketReady))
	if err != nil {
		return nil, fmt.Errorf("creating the load balancer: %w", err)
	}
	targets, err := lb.NewTargetGroup(ctx, name, &lb.TargetGroupArgs{
		VpcId:               a.VpcId,
		Port:                pulumi.Int(defaultHostPort),
		Protocol:            pulumi.String("HTTPS"),
		TargetType:          pulumi.String("instance"),
		DeregistrationDelay: pulumi.Int(deregistrationDelaySecs),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTPS"),
			Path:               pulumi.String(c.HealthCheckPath),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(15),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(3),
		},
		Tags: naming.Tags(a.Tags, name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the target group: %w", err)
	}
	https, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
		LoadBalancerArn: balancer.Arn,
		Port:            pulumi.Int(443),
		Protocol:        pulumi.String("HTTPS"),
		SslPolicy:       pulumi.String(c.SslPolicy),
		CertificateArn:  pulumi.String(c.CertificateArn),
		DefaultActions: lb.ListenerDefaultActionArray{
			lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: targets.Arn},
		},
		Tags: naming.Tags(a.Tags, name+"-https"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the HTTPS listener: %w", err)
	}
	if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: balancer.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{
			lb.ListenerDefaultActionArgs{
				Type: pulumi.String("redirect"),
				Redirect: lb.ListenerDefaultActionRedirectArgs{
					Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
				},
			},
		},
		Tags: naming.Tags(a.Tags, name+"-http"),
	}, parent); err != nil {
		return nil, fmt.Errorf("creating the HTTP redirect listener: %w", err)
	}
	if err := webACL(ctx, name, a, balancer.Arn, parent); err != nil {
		return nil, err
	}
	return &frontEnd{lb: balancer, targets: targets, https: https}, nil
}
