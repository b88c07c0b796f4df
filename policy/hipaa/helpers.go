package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/internal/cloudinit"

	"github.com/hipaa-platform/platform/policy/engine"
)

// Resource types the rules look at, pulumi-aws v6 tokens.
const (
	tVolume            = "aws:ebs/volume:Volume"
	tEncryptionDefault = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	tDefaultKmsKey     = "aws:ebs/defaultKmsKey:DefaultKmsKey"
	tInstance          = "aws:ec2/instance:Instance"
	tLaunchTemplate    = "aws:ec2/launchTemplate:LaunchTemplate"
	tImageRecipe       = "aws:imagebuilder/imageRecipe:ImageRecipe"
	tSsmDocument       = "aws:ssm/document:Document"
	tPatchBaseline     = "aws:ssm/patchBaseline:PatchBaseline"
	tPatchGroup        = "aws:ssm/patchGroup:PatchGroup"
	tAssociation       = "aws:ssm/association:Association"
	tMaintenanceWindow = "aws:ssm/maintenanceWindow:MaintenanceWindow"
	tImagePipeline     = "aws:imagebuilder/imagePipeline:ImagePipeline"
	tImage             = "aws:imagebuilder/image:Image"
	tImageDistribution = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
	tVpc               = "aws:ec2/vpc:Vpc"
	tSubnet            = "aws:ec2/subnet:Subnet"
	tRouteTable        = "aws:ec2/routeTable:RouteTable"
	tRoute             = "aws:ec2/route:Route"
	tRouteAssoc        = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	tInternetGateway   = "aws:ec2/internetGateway:InternetGateway"
	tSecurityGroup     = "aws:ec2/securityGroup:SecurityGroup"
	tSecurityGroupRule = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tIngressRule       = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tDefaultSG         = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	tDefaultNACL       = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
	tVpcEndpoint       = "aws:ec2/vpcEndpoint:VpcEndpoint"
	tNetworkACL        = "aws:ec2/networkAcl:NetworkAcl"
	tFlowLog           = "aws:ec2/flowLog:FlowLog"
	tBucket            = "aws:s3/bucketV2:BucketV2"
	tBucketSSE         = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tBucketVersioning  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tBucketPAB         = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tBucketOwnership   = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tBucketPolicy      = "aws:s3/bucketPolicy:BucketPolicy"
	tBucketLogging     = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	tBucketLifecycle   = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	tBucketObjectLock  = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
	tBucketACL         = "aws:s3/bucketAclV2:BucketAclV2"
	tKmsKey            = "aws:kms/key:Key"
	tLogGroup          = "aws:cloudwatch/logGroup:LogGroup"
	tMetricAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tTopic             = "aws:sns/topic:Topic"
	tSecret            = "aws:secretsmanager/secret:Secret"
	tSecretVersion     = "aws:secretsmanager/secretVersion:SecretVersion"
	tSecretRotation    = "aws:secretsmanager/secretRotation:SecretRotation"
	tRandomPassword    = "random:index/randomPassword:RandomPassword"
	tParameter         = "aws:ssm/parameter:Parameter"
	tTrail             = "aws:cloudtrail/trail:Trail"
	tDetector          = "aws:guardduty/detector:Detector"
	tPasswordPolicy    = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"
	tAccountPAB        = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
	tIamPolicy         = "aws:iam/policy:Policy"
	tRolePolicy        = "aws:iam/rolePolicy:RolePolicy"
	tUserPolicy        = "aws:iam/userPolicy:UserPolicy"
	tGroupPolicy       = "aws:iam/groupPolicy:GroupPolicy"
	tRole              = "aws:iam/role:Role"
	tRolePolicyAttach  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tUserPolicyAttach  = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
	tPolicyAttachment  = "aws:iam/policyAttachment:PolicyAttachment"
	tLoadBalancer      = "aws:lb/loadBalancer:LoadBalancer"
	tAlbLoadBalancer   = "aws:alb/loadBalancer:LoadBalancer"
	tListener          = "aws:lb/listener:Listener"
	tAlbListener       = "aws:alb/listener:Listener"
	tEcrRepository     = "aws:ecr/repository:Repository"
	tEcrPolicy         = "aws:ecr/repositoryPolicy:RepositoryPolicy"
	tRecorder          = "aws:cfg/recorder:Recorder"
	tDeliveryChannel   = "aws:cfg/deliveryChannel:DeliveryChannel"
	tRecorderStatus    = "aws:cfg/recorderStatus:RecorderStatus"
	tConformancePack   = "aws:cfg/conformancePack:ConformancePack"
	tBucketObject      = "aws:s3/bucketObjectv2:BucketObjectv2"
	tSecurityHub       = "aws:securityhub/account:Account"
	tStandards         = "aws:securityhub/standardsSubscription:StandardsSubscription"
	tInspector         = "aws:inspector2/enabler:Enabler"
	tDetectorFeature   = "aws:guardduty/detectorFeature:DetectorFeature"
	tMetricFilter      = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
	tBackupVault       = "aws:backup/vault:Vault"
	tBackupVaultPolicy = "aws:backup/vaultPolicy:VaultPolicy"
	tBackupPlan        = "aws:backup/plan:Plan"
	tBackupSelection   = "aws:backup/selection:Selection"
	tWebACL            = "aws:wafv2/webAcl:WebAcl"
	tWebACLAssoc       = "aws:wafv2/webAclAssociation:WebAclAssociation"
	tWebACLLogging     = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
)

// baselineTypes are the account-wide singletons; a stack holding any of them is its account's baseline.
var baselineTypes = []string{tTrail, tDetector, tEncryptionDefault, tDefaultKmsKey, tPasswordPolicy, tAccountPAB}

// isBaseline reports whether the stack is its account's baseline.
func isBaseline(s *engine.Stack) bool {
	for _, t := range baselineTypes {
		if len(s.OfType(t)) > 0 {
			return true
		}
	}
	return false
}

// requireCustomerKey fails when a key property is unset, or names an AWS-managed key (alias/aws/...).
func requireCustomerKey(c *engine.Check, v engine.V, what string) {
	switch {
	case !v.Present():
		c.Fail(v.Path(), "%s is not set, so %s is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key", v.Path(), what)
	case strings.HasPrefix(v.Str(), "alias/aws/"):
		c.Fail(v.Path(), "%s is %s, an AWS-managed key; set it to a customer-managed KMS key", v.Path(), v.Str())
	}
}

// requireTrue fails when a boolean property is not true, and reports an unknown one; why, if given,
// starts with a space.
func requireTrue(c *engine.Check, v engine.V, why string) {
	switch {
	case v.Unknown():
		c.Unknown(v.Path())
	case !v.True():
		got := "not set"
		if !v.Missing() {
			got = "false"
		}
		c.Fail(v.Path(), "%s is %s; set it to true%s", v.Path(), got, why)
	}
}

func isWorld(cidr string) bool { return cidr == "0.0.0.0/0" || cidr == "::/0" }

// requireEncryptedBlockDevices fails a resource's block device mappings (a launch template's, an image
// recipe's) unless each EBS one is encrypted with a customer-managed key: volume names what the mapping
// makes, and empty is the finding when there is no mapping at all.
func requireEncryptedBlockDevices(c *engine.Check, r *engine.Resource, volume, empty string) {
	mappings := r.Get("blockDeviceMappings")
	if mappings.Unknown() {
		c.Unknown("blockDeviceMappings")
		return
	}
	items := mappings.Items()
	if len(items) == 0 {
		c.Fail("blockDeviceMappings", "%s", empty)
	}
	for _, m := range items {
		ebs := m.Get("ebs")
		if ebs.Missing() {
			continue // instance-store or no-device mappings hold no EBS volume
		}
		requireTrue(c, ebs.Get("encrypted"), ` (the string "true" in pulumi-aws v6) so `+volume+` is encrypted`)
		requireCustomerKey(c, ebs.Get("kmsKeyId"), volume)
	}
}

// userDataFiles are the files a host's user data writes, by path; ud is the property they come from
// (userData, or userDataBase64), and nil files with ud.Unknown() mean it is not known yet. The user data
// is decoded once per resource, however many rules read it.
func userDataFiles(c *engine.Check, r *engine.Resource) (files map[string]string, ud engine.V, err error) {
	type decoded struct {
		files map[string]string
		ud    engine.V
		err   error
	}
	d := engine.Memo(r, "userData", func() decoded {
		files, ud, err := decodeUserData(c, r)
		return decoded{files, ud, err}
	})
	return d.files, d.ud, d.err
}

func decodeUserData(c *engine.Check, r *engine.Resource) (files map[string]string, ud engine.V, err error) {
	ud = r.Get("userData")
	if ud.Missing() {
		ud = r.Get("userDataBase64")
	}
	if ud.Unknown() {
		return nil, ud, nil
	}
	type read struct {
		files map[string]string
		err   error
	}
	got := engine.Derive(c, "cloudinit.Files", ud.Str(), func(s string) read {
		files, err := cloudinit.Files(s)
		return read{files, err}
	})
	return got.files, ud, got.err
}
