package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// InterfaceEndpoints are the AWS services private hosts reach through interface endpoints: the container
// registry, Session Manager (in place of SSH), CloudWatch Logs and metrics, KMS and Secrets Manager. S3 is
// reached through a gateway endpoint.
var InterfaceEndpoints = []string{
	"ecr.api", "ecr.dkr", "ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "kms", "secretsmanager",
}

// endpoints gives the private subnets the AWS services they need without the internet: S3 through a
// gateway endpoint on every private route table, the rest through interface endpoints in the app
// subnets behind one security group that the firewall opens to each tier, each held to the account's own
// resources by its policy (endpoint_policies.go). It returns the group, the S3 prefix list, and the
// endpoints.
func endpoints(ctx *pulumi.Context, name string, a *VpcArgs, vpc *ec2.Vpc, subnets, routeTables pulumi.StringArray,
	parent, afterReservations pulumi.ResourceOption,
) (*ec2.SecurityGroup, pulumi.StringOutput, []pulumi.Resource, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name+"-endpoints", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("Interface VPC endpoints; ingress rules come from the firewall"),
		Tags:        naming.Tags(a.Tags, name+"-endpoints"),
	}, parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, nil, fmt.Errorf("creating endpoint security group: %w", err)
	}
	partition := iampolicy.Partition(a.Region)
	s3Args := &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", a.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables,
		Tags:            naming.Tags(a.Tags, name+"-s3"),
		Policy:          pulumi.String(gatewayPolicy(partition, a.Region, a.AccountID, a.BuildsImages)),
	}
	s3, err := ec2.NewVpcEndpoint(ctx, name+"-s3", s3Args, parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, nil, fmt.Errorf("creating S3 gateway endpoint: %w", err)
	}
	made := []pulumi.Resource{s3}
	for _, svc := range InterfaceEndpoints {
		n := name + "-" + svc
		args := &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", a.Region, svc),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			Tags:              naming.Tags(a.Tags, n),
		}
		if policy := interfacePolicy(svc, partition, a.Region, a.AccountID, a.PeerAccounts); policy != "" {
			args.Policy = pulumi.String(policy)
		}
		e, err := ec2.NewVpcEndpoint(ctx, n, args, parent, afterReservations)
		if err != nil {
			return nil, pulumi.StringOutput{}, nil, fmt.Errorf("creating %s endpoint: %w", svc, err)
		}
		made = append(made, e)
	}
	return sg, s3.PrefixListId, made, nil
}
