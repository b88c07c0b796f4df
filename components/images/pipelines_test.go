package images_test

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// pipelines is the component under test, run as a program of its own.
var pipelines = offlinetest.For(images.NewPipelines, "hipaa-unit-images")

const (
	ebsKey  = "arn:aws:kms:us-east-1:123456789012:key/ebs"
	logsKey = "arn:aws:kms:us-east-1:123456789012:key/logs"
	subnet  = "subnet-0app"
	parent  = "ami-0debian12"
)

func pipelineArgs() *images.PipelinesArgs {
	return &images.PipelinesArgs{
		Prefix: "hipaa", ParentImage: pulumi.String(parent),
		VpcId: pulumi.String("vpc-0build"), SubnetId: pulumi.String(subnet), EndpointSecurityGroupId: pulumi.String("sg-0endpoints"),
		EbsKeyArn: pulumi.String(ebsKey), LogsKeyArn: pulumi.String(logsKey), LogRetentionDays: 2192,
		Region: "us-east-1", AccountID: "123456789012", Tags: map[string]string{"DataClass": "phi"},
	}
}

func TestEachRoleHasARecipeOfTheBuildsComponentsEncryptedWithTheEBSKey(t *testing.T) {
	t.Parallel()
	rs := pipelines.MustRun(t, pipelineArgs())
	version, err := images.Version()
	if err != nil {
		t.Fatal(err)
	}
	components := offlinetest.Of(rs, "aws:imagebuilder/component:Component")
	if len(components) != len(images.Components()) {
		t.Fatalf("%d components, want %d (%v)", len(components), len(images.Components()), images.Components())
	}
	ids := map[string]string{}
	for _, c := range components {
		name := strings.TrimPrefix(c.String("name"), "hipaa-")
		want, err := images.ComponentDocument("hipaa", name)
		if err != nil {
			t.Fatal(err)
		}
		if c.String("data") != want || c.String("platform") != "Linux" || c.String("version") != version {
			t.Errorf("component %s: platform %q, version %q (want %s), data as built: %v", c.Name, c.String("platform"), c.String("version"), version, c.String("data") == want)
		}
		if c.Value("skipDestroy") != true {
			t.Errorf("component %s is deleted when a new version replaces it; the images built with it name it", c.Name)
		}
		ids[name] = c.ID
	}

	recipes := offlinetest.Of(rs, "aws:imagebuilder/imageRecipe:ImageRecipe")
	if len(recipes) != len(images.Roles) {
		t.Fatalf("%d recipes, want one per role", len(recipes))
	}
	for _, role := range images.Roles {
		r, ok := offlinetest.Named(rs, "aws:imagebuilder/imageRecipe:ImageRecipe", "hipaa-unit-images-"+role)
		if !ok {
			t.Fatalf("no recipe for %s", role)
		}
		if r.String("parentImage") != parent || r.String("version") != version {
			t.Errorf("%s recipe: parent %q, version %q; want %s, %s", role, r.String("parentImage"), r.String("version"), parent, version)
		}
		if !r.Options.RetainOnDelete {
			t.Errorf("%s recipe is deleted when replaced; the pipeline's images still name it", role)
		}
		for i, c := range images.Components() {
			at := "components." + strconv.Itoa(i) + "."
			if arn := r.String(at + "componentArn"); !strings.HasSuffix(arn, "/"+ids[c]) {
				t.Errorf("%s recipe's component %d is %s, want %s: the build's components in order %v", role, i, arn, c, images.Components())
			}
			if p, v := r.String(at+"parameters.0.name"), r.String(at+"parameters.0.value"); p != images.RoleParameter || v != role {
				t.Errorf("%s recipe's component %s is given %s=%q, want %s=%s", role, c, p, v, images.RoleParameter, role)
			}
		}
		if r.String("blockDeviceMappings.0.ebs.encrypted") != "true" || r.String("blockDeviceMappings.0.ebs.kmsKeyId") != ebsKey {
			t.Errorf("%s recipe's root volume: %v, want encrypted with the EBS key", role, r.Value("blockDeviceMappings"))
		}
		if r.Value("systemsManagerAgent.uninstallAfterBuild") != false {
			t.Errorf("%s recipe removes the Systems Manager agent, through which hosts are reached", role)
		}
		userData, err := base64.StdEncoding.DecodeString(r.String("userDataBase64"))
		if err != nil || !strings.Contains(string(userData), "https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb") {
			t.Errorf("%s recipe's user data does not install the Systems Manager agent from the region's bucket (%v):\n%s", role, err, userData)
		}
	}
}

func TestImagesAreDistributedEncryptedUnderTheNamesTheStacksLookUp(t *testing.T) {
	t.Parallel()
	rs := pipelines.MustRun(t, pipelineArgs())
	for _, role := range images.Roles {
		d, ok := offlinetest.Named(rs, "aws:imagebuilder/distributionConfiguration:DistributionConfiguration", "hipaa-unit-images-"+role)
		if !ok {
			t.Fatalf("no distribution for %s", role)
		}
		if n := len(d.Value("distributions").([]any)); n != 1 || d.String("distributions.0.region") != "us-east-1" {
			t.Errorf("%s is distributed to %v, want its own region only", role, d.Value("distributions"))
		}
		ami := "distributions.0.amiDistributionConfiguration."
		name := strings.ReplaceAll(d.String(ami+"name"), "{{ imagebuilder:buildDate }}", "20261202093000")
		if ok, _ := path.Match(images.ImageName("hipaa", role), name); !ok {
			t.Errorf("%s's images are named %q, which the stacks' pattern %q does not match", role, d.String(ami+"name"), images.ImageName("hipaa", role))
		}
		if d.String(ami+"kmsKeyId") != ebsKey || d.String(ami+"amiTags.Role") != role || d.Value(ami+"targetAccountIds") != nil || d.Value(ami+"launchPermission") != nil {
			t.Errorf("%s's images: %v, want encrypted with the EBS key, tagged with the role, shared with no one", role, d.Value("distributions.0.amiDistributionConfiguration"))
		}

		p, ok := offlinetest.Named(rs, "aws:imagebuilder/imagePipeline:ImagePipeline", "hipaa-unit-images-"+role)
		if !ok {
			t.Fatalf("no pipeline for %s", role)
		}
		if p.Value("imageTestsConfiguration.imageTestsEnabled") != true || p.Value("imageScanningConfiguration.imageScanningEnabled") != true {
			t.Errorf("%s pipeline: tests %v, scanning %v; want both", role, p.Value("imageTestsConfiguration"), p.Value("imageScanningConfiguration"))
		}
		if p.String("schedule.scheduleExpression") != images.DefaultSchedule || p.String("schedule.pipelineExecutionStartCondition") != "EXPRESSION_MATCH_ONLY" || p.String("status") != "ENABLED" {
			t.Errorf("%s pipeline: schedule %v, status %q; want %s on its own, enabled", role, p.Value("schedule"), p.String("status"), images.DefaultSchedule)
		}
		img, ok := offlinetest.Named(rs, "aws:imagebuilder/image:Image", "hipaa-unit-images-"+role)
		if !ok {
			t.Fatalf("no first image for %s", role)
		}
		for _, key := range []string{"imageRecipeArn", "infrastructureConfigurationArn", "distributionConfigurationArn"} {
			if img.String(key) == "" || img.String(key) != p.String(key) {
				t.Errorf("%s first image's %s %q is not its pipeline's %q", role, key, img.String(key), p.String(key))
			}
		}
		if img.Value("imageTestsConfiguration.imageTestsEnabled") != true || img.Value("imageScanningConfiguration.imageScanningEnabled") != true {
			t.Errorf("%s first image is not tested and scanned", role)
		}
		logs, ok := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "hipaa-unit-images-"+role+"-logs")
		recipe, _ := offlinetest.Named(rs, "aws:imagebuilder/imageRecipe:ImageRecipe", "hipaa-unit-images-"+role)
		if !ok || logs.String("name") != "/aws/imagebuilder/"+recipe.String("name") || logs.String("kmsKeyId") != logsKey || logs.Value("retentionInDays") != float64(2192) {
			t.Errorf("%s build logs: %v; want /aws/imagebuilder/%s, the logs key, the stack's retention", role, logs.Inputs, recipe.String("name"))
		}
		for _, r := range []offline.Resource{p, img} {
			if !slices.Contains(r.Dependencies, logs.URN) {
				t.Errorf("%s %s may start a build before its log group exists, which Image Builder would then create unencrypted", r.Type, r.Name)
			}
		}
	}
}

func TestTheBuildsRunDedicatedInTheAppSubnetWithHTTPSOutOnly(t *testing.T) {
	t.Parallel()
	rs := pipelines.MustRun(t, pipelineArgs())
	infra := offlinetest.One(t, rs, "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration")
	if infra.String("subnetId") != subnet || infra.String("placement.tenancy") != "dedicated" ||
		infra.String("instanceMetadataOptions.httpTokens") != "required" || infra.Value("terminateInstanceOnFailure") != true {
		t.Errorf("infrastructure: %v; want the app subnet, dedicated, IMDSv2, no instance left behind", infra.Inputs)
	}
	if got := infra.Value("instanceTypes"); !slices.Equal(toStrings(got), []string{images.DefaultInstanceType}) {
		t.Errorf("builds run on %v, want %s", got, images.DefaultInstanceType)
	}
	sg := offlinetest.One(t, rs, "aws:ec2/securityGroup:SecurityGroup")
	if sg.Value("ingress") != nil {
		t.Errorf("the build group admits %v; it admits nothing", sg.Value("ingress"))
	}
	egress, _ := sg.Value("egress").([]any)
	if len(egress) != 1 || sg.String("egress.0.protocol") != "tcp" || sg.Value("egress.0.fromPort") != float64(443) || sg.Value("egress.0.toPort") != float64(443) {
		t.Errorf("the build group sends out %v, want HTTPS only", egress)
	}
	rule := offlinetest.One(t, rs, "aws:ec2/securityGroupRule:SecurityGroupRule")
	if rule.String("securityGroupId") != "sg-0endpoints" || rule.String("sourceSecurityGroupId") != sg.ID || rule.Value("fromPort") != float64(443) {
		t.Errorf("endpoint rule %v: want the build group admitted to the endpoints on 443", rule.Inputs)
	}
	own := offlinetest.One(t, rs, "aws:iam/policy:Policy")
	var attached []string
	for _, a := range offlinetest.Of(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Name != own.Name { // the role's own policy, checked below
			attached = append(attached, a.String("policyArn"))
		}
	}
	slices.Sort(attached)
	if want := []string{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", images.ImageBuilderInstanceProfilePolicy}; !slices.Equal(attached, want) {
		t.Errorf("the build role has %v, want %v", attached, want)
	}
	var policy struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(own.String("policy")), &policy); err != nil {
		t.Fatal(err)
	}
	for _, s := range policy.Statement {
		for _, a := range s.Action {
			if !strings.HasPrefix(a, "logs:") {
				t.Errorf("the build role's own policy allows %s; it only writes its build logs", a)
			}
		}
		for _, r := range s.Resource {
			if !strings.Contains(r, ":log-group:/aws/imagebuilder/hipaa-") {
				t.Errorf("the build role writes to %s, beyond its builds' log groups", r)
			}
		}
	}
	for _, p := range offlinetest.Of(rs, "aws:imagebuilder/imagePipeline:ImagePipeline") {
		for _, dep := range []offline.Resource{own, rule} {
			if !slices.Contains(p.Dependencies, dep.URN) {
				t.Errorf("pipeline %s may build before %s %s exists", p.Name, dep.Type, dep.Name)
			}
		}
	}
}

func TestBadPipelineArgsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(*images.PipelinesArgs)
		want   string
	}{
		{"no subnet", func(a *images.PipelinesArgs) { a.SubnetId = nil }, "SubnetId is required"},
		{"no parent", func(a *images.PipelinesArgs) { a.ParentImage = nil }, "ParentImage is required"},
		{"five-field cron", func(a *images.PipelinesArgs) { a.Schedule = "0 6 * * 0" }, `Schedule: "0 6 * * 0" is not a cron expression of six fields, such as cron(0 6 ? * sun *)`},
		{"shared tenancy only", func(a *images.PipelinesArgs) { a.InstanceType = "t3.large" }, "InstanceType:"},
		{"short retention", func(a *images.PipelinesArgs) { a.LogRetentionDays = 30 }, "LogRetentionDays:"},
		{"no account", func(a *images.PipelinesArgs) { a.AccountID = "" }, `AccountID "": want 12 digits`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := pipelineArgs()
			c.change(a)
			pipelines.Refused(t, a, c.want)
		})
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
