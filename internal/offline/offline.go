// Package offline runs a Pulumi program under the SDK's mocks, with no cloud and no credentials, and records
// every resource the program registers and every provider function it calls, which it answers with fixed,
// derived values (the account, zones, images, certificates, release digests). The offline preview of
// platformctl and the unit tests of every component and stack use it, so what a test asserts is what an
// operator sees in the preview.
package offline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/policy/engine"
)

// AccountID is the AWS account every mocked ARN and caller identity names.
const AccountID = "123456789012"

// Resource is one registration the program made, as the engine would have received it.
type Resource struct {
	URN string
	// ID is the mocked physical ID of a custom resource; empty for a component.
	ID      string
	Type    string
	Name    string
	Parent  string
	Custom  bool
	Protect bool
	Options ResourceOptions
	Inputs  resource.PropertyMap
	// Outputs are what the mocks answered for a custom resource: its inputs, with the ID, ARN and name
	// they add; what a state of the stack would hold, were the mocks a provider.
	Outputs              resource.PropertyMap
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// ResourceOptions are the resource options that change what an update does to a resource, as the
// preview contract carries them: the very options the rules see, so that an audit of a preview reads
// them as they are. DependsOn holds the explicit DependsOn, expanded to resources.
type ResourceOptions = engine.Options

// Options describe the stack a program runs as.
type Options struct {
	Project string
	Stack   string
	// Region answers the provider's region look-ups and goes into mocked ARNs; default us-east-1.
	Region string
	// Config is the stack's configuration as the CLI hands it to a program: "namespace:key" to a string,
	// objects and arrays JSON-encoded.
	Config map[string]string
	// SecretKeys lists the keys of Config that are secret.
	SecretKeys []string
	// Account is what the account already holds.
	Account Account
}

// Account is what the offline account already holds of the singletons a program looks up before it
// declares them. The zero value is an account in use, as most are: Auto Scaling has launched a group
// (so its service-linked role exists) and the organization has enabled GuardDuty (so the region has a
// detector).
type Account struct {
	// NoAutoScalingRole is an account where Auto Scaling has never run.
	NoAutoScalingRole bool
	// NoConfigRole is an account where AWS Config has never been set up, so it has no service-linked
	// role of its own.
	NoConfigRole bool
	// NoDetector is a region where GuardDuty has never been enabled.
	NoDetector bool
	// SessionPreferences is the content of the account's Session Manager preferences document; empty
	// for an account where nobody has saved preferences, which has none.
	SessionPreferences string
	// LookupsFail, when set, is the error every look-up of a singleton fails with, as one without the
	// permission to look does.
	LookupsFail string
}

// Fresh is an account where nothing has run yet.
var Fresh = Account{NoAutoScalingRole: true, NoConfigRole: true, NoDetector: true}

// DetectorID is the offline account's existing GuardDuty detector.
const DetectorID = "12abc34d567e8fa901bc2d34e56789f0"

// AutoScalingRoleArn is the offline account's existing Auto Scaling service-linked role.
const AutoScalingRoleArn = "arn:aws:iam::" + AccountID + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"

// ConfigRoleArn is the offline account's existing AWS Config service-linked role.
const ConfigRoleArn = "arn:aws:iam::" + AccountID + ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"

// linkedRole is a service-linked role the offline account may hold.
type linkedRole struct{ name, path, arn, description string }

// linkedRoles are the service-linked roles the account holds.
func (a Account) linkedRoles() []linkedRole {
	var out []linkedRole
	if !a.NoAutoScalingRole {
		out = append(out, linkedRole{"AWSServiceRoleForAutoScaling", "/aws-service-role/autoscaling.amazonaws.com/", AutoScalingRoleArn,
			"Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling"})
	}
	if !a.NoConfigRole {
		out = append(out, linkedRole{"AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/", ConfigRoleArn, ""})
	}
	return out
}

// Run runs program under mocks and returns what it registered, ordered by URN.
func Run(opts Options, program pulumi.RunFunc) ([]Resource, error) {
	rec, err := Record(opts, program)
	return rec.Resources, err
}

// Recording is what a program did under mocks: the resources it registered, ordered by URN, and the
// provider functions it called, in the order it called them.
type Recording struct {
	Resources []Resource
	Calls     []Call
}

// Call is one provider function the program called, with its arguments.
type Call struct {
	Token string
	Args  resource.PropertyMap
}

// Of returns the calls of one function, in order.
func (r Recording) Of(token string) []Call {
	var out []Call
	for _, c := range r.Calls {
		if c.Token == token {
			out = append(out, c)
		}
	}
	return out
}

// Record runs program under mocks and returns what it registered and called.
func Record(opts Options, program pulumi.RunFunc) (Recording, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	m := &monitor{opts: opts}
	err := pulumi.RunErr(program,
		pulumi.WithMocks(opts.Project, opts.Stack, m),
		func(info *pulumi.RunInfo) {
			info.Config = opts.Config
			info.ConfigSecretKeys = opts.SecretKeys
			info.Parallel = 0
		})
	m.mu.Lock()
	defer m.mu.Unlock()
	return Recording{Resources: sortByURN(append([]Resource(nil), m.recorded...)), Calls: append([]Call(nil), m.calls...)}, err
}

// sortByURN orders resources by URN: registrations arrive in whatever order the program's goroutines
// run, and a preview must print the same way every time.
func sortByURN(rs []Resource) []Resource {
	slices.SortFunc(rs, func(a, b Resource) int { return strings.Compare(a.URN, b.URN) })
	return rs
}

// monitor implements pulumi.MockResourceMonitor. The SDK calls it from several goroutines, so every
// recording goes through mu.
type monitor struct {
	opts Options

	mu       sync.Mutex
	recorded []Resource
	calls    []Call
}

func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := Resource{
		Type:   args.TypeToken,
		Name:   args.Name,
		Custom: args.Custom,
		Inputs: args.Inputs,
	}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		sort.Strings(r.Dependencies)
		r.PropertyDependencies = map[string][]string{}
		viaProperty := map[string]bool{}
		for k, deps := range rpc.GetPropertyDependencies() {
			urns := append([]string(nil), deps.GetUrns()...)
			sort.Strings(urns)
			r.PropertyDependencies[k] = urns
			for _, u := range urns {
				viaProperty[u] = true
			}
		}
		r.Options = ResourceOptions{
			Protect: r.Protect, DeleteBeforeReplace: rpc.GetDeleteBeforeReplace(), RetainOnDelete: rpc.GetRetainOnDelete(),
			IgnoreChanges: sorted(rpc.GetIgnoreChanges()), ReplaceOnChanges: sorted(rpc.GetReplaceOnChanges()), DependsOn: []string{},
			Import: rpc.GetImportId(),
		}
		for _, d := range r.Dependencies {
			if !viaProperty[d] {
				r.Options.DependsOn = append(r.Options.DependsOn, d)
			}
		}
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	state := resource.PropertyMap{}
	if args.Custom {
		r.ID, state = m.state(r)
		r.Outputs = state
	}

	m.mu.Lock()
	m.recorded = append(m.recorded, r)
	m.mu.Unlock()
	return r.ID, state, nil
}

// sorted is a sorted copy of a list, never nil.
func sorted(list []string) []string {
	out := append([]string{}, list...)
	sort.Strings(out)
	return out
}

// urn builds the URN the engine would give, as the SDK's own mock monitor does.
func (m *monitor) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.opts.Stack), tokens.PackageName(m.opts.Project),
		parentType, tokens.Type(typ), name))
}

// state returns a deterministic ID and the outputs a provider would add to the inputs: the same program
// always gets the same IDs and ARNs, so previews can be diffed.
func (m *monitor) state(r Resource) (string, resource.PropertyMap) {
	sum := sha256.Sum256([]byte(r.URN))
	hash := hex.EncodeToString(sum[:])[:17]
	mod := module(r.Type)

	id := idPrefix(r.Type) + hash
	state := r.Inputs.Copy()
	if name, ok := r.Inputs["name"]; !ok || !name.IsString() {
		state["name"] = resource.NewProperty(r.Name)
	}
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", mod, m.opts.Region, AccountID, typeName(r.Type), id)
	switch r.Type {
	case "aws:s3/bucketV2:BucketV2":
		bucket := r.Name + "-" + hash[:7]
		if b, ok := r.Inputs["bucket"]; ok && b.IsString() {
			bucket = b.StringValue()
		}
		id = bucket
		state["bucket"] = resource.NewProperty(bucket)
		state["bucketDomainName"] = resource.NewProperty(bucket + ".s3.amazonaws.com")
		arn = "arn:aws:s3:::" + bucket
	case "aws:kms/key:Key":
		id = fmt.Sprintf("%s-%s-%s-%s-%s", hash[:8], hash[8:12], hash[12:16], hash[16:17]+hash[:3], hash[3:15])
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", m.opts.Region, AccountID, id)
		state["keyId"] = resource.NewProperty(id)
	case "aws:cloudwatch/logGroup:LogGroup":
		name := r.Name
		if n, ok := r.Inputs["name"]; ok && n.IsString() {
			name = n.StringValue()
		}
		id = name
		arn = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", m.opts.Region, AccountID, name)
	case "aws:ecr/repository:Repository":
		state["registryId"] = resource.NewProperty(AccountID)
		state["repositoryUrl"] = resource.NewProperty(fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", AccountID, m.opts.Region, state["name"].StringValue()))
		arn = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", m.opts.Region, AccountID, state["name"].StringValue())
	case "docker:index/image:Image":
		var repo string
		if v := r.Inputs["imageName"]; v.IsString() {
			repo = v.StringValue()
		}
		if c := strings.LastIndex(repo, ":"); c > strings.LastIndex(repo, "/") {
			repo = repo[:c]
		}
		state["repoDigest"] = resource.NewProperty(repo + "@sha256:" + hex.EncodeToString(sum[:]))
	case "aws:sns/topic:Topic":
		id = fmt.Sprintf("arn:aws:sns:%s:%s:%s", m.opts.Region, AccountID, state["name"].StringValue())
		arn = id
	case "aws:ssm/document:Document":
		// Each new content becomes the document's default version; a document not named by the program
		// gets a name from the provider.
		if n, ok := r.Inputs["name"]; !ok || !n.IsString() {
			state["name"] = resource.NewProperty(r.Name + "-" + hash[:7])
		}
		state["defaultVersion"] = resource.NewProperty("1")
		state["latestVersion"] = resource.NewProperty("1")
		id = state["name"].StringValue()
		arn = fmt.Sprintf("arn:aws:ssm:%s:%s:document/%s", m.opts.Region, AccountID, id)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		state["latestVersion"] = resource.NewProperty(1.0)
	case "aws:lb/loadBalancer:LoadBalancer":
		arn = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", m.opts.Region, AccountID, r.Name, hash[:16])
		state["arnSuffix"] = resource.NewProperty(fmt.Sprintf("app/%s/%s", r.Name, hash[:16]))
		state["dnsName"] = resource.NewProperty(fmt.Sprintf("%s-%s.%s.elb.amazonaws.com", r.Name, hash[:10], m.opts.Region))
	case "aws:lb/targetGroup:TargetGroup":
		arn = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", m.opts.Region, AccountID, r.Name, hash[:16])
		state["arnSuffix"] = resource.NewProperty(fmt.Sprintf("targetgroup/%s/%s", r.Name, hash[:16]))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		state["prefixListId"] = resource.NewProperty("pl-" + hash)
	case "random:index/randomPassword:RandomPassword":
		state["result"] = resource.MakeSecret(resource.NewProperty("mock-password-" + hash))
	case "tls:index/privateKey:PrivateKey":
		state["privateKeyPem"] = resource.MakeSecret(resource.NewProperty("-----BEGIN MOCK PRIVATE KEY-----\n" + hash + "\n-----END MOCK PRIVATE KEY-----\n"))
		state["publicKeyPem"] = resource.NewProperty("-----BEGIN MOCK PUBLIC KEY-----\n" + hash + "\n-----END MOCK PUBLIC KEY-----\n")
	case "tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert":
		state["certPem"] = resource.NewProperty("-----BEGIN MOCK CERTIFICATE-----\n" + hash + "\n-----END MOCK CERTIFICATE-----\n")
	case "tls:index/certRequest:CertRequest":
		state["certRequestPem"] = resource.NewProperty("-----BEGIN MOCK CERTIFICATE REQUEST-----\n" + hash + "\n-----END MOCK CERTIFICATE REQUEST-----\n")
	case "aws:imagebuilder/image:Image":
		// A build's outputs: the one AMI its distribution made here.
		state["outputResources"] = resource.NewPropertyValue([]any{map[string]any{"amis": []any{map[string]any{
			"image": "ami-0" + hash[:16], "accountId": AccountID, "region": m.opts.Region, "name": r.Name,
		}}}})
	case "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:iam/policy:Policy":
		id = r.Name
		arn = fmt.Sprintf("arn:aws:iam::%s:%s/%s", AccountID, strings.ToLower(typeName(r.Type)[:1])+typeName(r.Type)[1:], r.Name)
	}
	if r.Options.Import != "" {
		// An adopted resource keeps the ID it is imported by; a role's is its ARN.
		id = r.Options.Import
		if strings.HasPrefix(id, "arn:") {
			arn = id
		}
	}
	state["id"] = resource.NewProperty(id)
	state["arn"] = resource.NewProperty(arn)
	return id, state
}

// Call answers the provider functions the program uses, and records each call; an unanswered one is
// an error, not a guess.
func (m *monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, Call{Token: args.Token, Args: args.Args.Copy()})
	m.mu.Unlock()
	return m.opts.Account.Answer(args.Token, m.opts.Region, args.Args)
}

// Answer is the offline answer to a provider function in an account in use.
func Answer(token, region string, args resource.PropertyMap) (resource.PropertyMap, error) {
	return Account{}.Answer(token, region, args)
}

// Answer is the offline answer to a provider function the platform program calls (the account, the
// region, its zones, its singletons, the database image, the release image, a registry token); any other
// function is an error.
func (a Account) Answer(token, region string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "aws:iam/getRoles:getRoles", "aws:iam/getRole:getRole", "aws:guardduty/getDetector:getDetector", "aws:ssm/getDocument:getDocument":
		if a.LookupsFail != "" {
			return nil, errors.New(a.LookupsFail)
		}
	}
	switch token {
	case "aws:iam/getRoles:getRoles":
		return a.roles(args), nil
	case "aws:iam/getRole:getRole":
		for _, r := range a.linkedRoles() {
			if name := args["name"]; name.IsString() && name.StringValue() == r.name {
				return resource.NewPropertyMapFromMap(map[string]any{
					"arn": r.arn, "name": r.name, "id": r.name, "path": r.path, "description": r.description, "tags": map[string]any{},
				}), nil
			}
		}
		// The provider fails the lookup of a role that is not there.
		return nil, fmt.Errorf("offline: the account has no IAM role %v", args["name"])
	case "aws:guardduty/getDetector:getDetector":
		if a.NoDetector {
			// The provider's own words for a region without a detector (see components/baseline).
			return nil, errors.New("reading this account's single GuardDuty Detector: empty result")
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": DetectorID, "arn": "arn:aws:guardduty:" + region + ":" + AccountID + ":detector/" + DetectorID,
			"status": "ENABLED", "findingPublishingFrequency": "SIX_HOURS", "tags": map[string]any{},
			"serviceRoleArn": "arn:aws:iam::" + AccountID + ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
			"features":       []any{},
		}), nil
	case "aws:ssm/getDocument:getDocument":
		name := args["name"]
		if a.SessionPreferences == "" || !name.IsString() || name.StringValue() != "SSM-SessionManagerRunShell" {
			// SSM's answer for a document that is not there, as the provider passes it on.
			return nil, fmt.Errorf("reading SSM Document (%v): operation error SSM: GetDocument, https response error StatusCode: 400, InvalidDocument: Document with name %v does not exist", name, name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name.StringValue(), "id": name.StringValue(), "arn": "arn:aws:ssm:" + region + ":" + AccountID + ":document/" + name.StringValue(),
			"content": a.SessionPreferences, "documentFormat": "JSON", "documentType": "Session", "documentVersion": "1",
		}), nil
	case "aws:ecr/getImage:getImage":
		return image(region, args), nil
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		return resource.PropertyMap{
			"userName":           resource.NewProperty("AWS"),
			"password":           resource.MakeSecret(resource.NewProperty("mock-registry-password")),
			"authorizationToken": resource.MakeSecret(resource.NewProperty("mock-registry-token")),
			"proxyEndpoint":      resource.NewProperty("https://" + AccountID + ".dkr.ecr." + region + ".amazonaws.com"),
			"id":                 resource.NewProperty(region),
		}, nil
	case "aws:acm/getCertificate:getCertificate":
		domain := "offline.example"
		if d, ok := args["domain"]; ok && d.IsString() {
			domain = d.StringValue()
		}
		sum := sha256.Sum256([]byte(domain))
		id := hex.EncodeToString(sum[:16])
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn":    fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s-%s-%s-%s-%s", region, AccountID, id[:8], id[8:12], id[12:16], id[16:20], id[20:32]),
			"domain": domain, "status": "ISSUED", "id": domain,
		}), nil
	case "aws:elb/getServiceAccount:getServiceAccount":
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn": "arn:aws:iam::127311923021:root", "id": "127311923021",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": AccountID,
			"arn":       "arn:aws:iam::" + AccountID + ":user/offline",
			"userId":    "AIDAOFFLINE",
			"id":        AccountID,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": region, "id": region, "endpoint": "ec2." + region + ".amazonaws.com",
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
		}), nil
	case "aws:ec2/getAmi:getAmi":
		return amiOf(args, region), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		var names, ids []any
		for i, l := range "abcdef" {
			names = append(names, region+string(l))
			ids = append(ids, fmt.Sprintf("use1-az%d", i+1))
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"names": names, "zoneIds": ids, "id": region,
		}), nil
	}
	return nil, fmt.Errorf("offline: no mock answers the provider function %s", token)
}

// roles answers iam.getRoles: the service-linked roles the account has that the lookup's path prefix and
// name pattern admit; an empty list when none is, as the provider answers.
func (a Account) roles(args resource.PropertyMap) resource.PropertyMap {
	arns, names := []any{}, []any{}
	prefix, pattern := "/", ""
	if v := args["pathPrefix"]; v.IsString() {
		prefix = v.StringValue()
	}
	if v := args["nameRegex"]; v.IsString() {
		pattern = v.StringValue()
	}
	re, err := regexp.Compile(pattern)
	for _, r := range a.linkedRoles() {
		if strings.HasPrefix(r.path, prefix) && err == nil && re.MatchString(r.name) {
			arns, names = append(arns, r.arn), append(names, r.name)
		}
	}
	return resource.NewPropertyMapFromMap(map[string]any{"arns": arns, "names": names, "id": "roles"})
}

// module is the provider module of a type token: "ec2" for "aws:ec2/vpc:Vpc".
func module(typ string) string {
	parts := strings.Split(typ, ":")
	if len(parts) != 3 {
		return "unknown"
	}
	mod, _, _ := strings.Cut(parts[1], "/")
	return mod
}

// typeName is the last part of a type token: "Vpc" for "aws:ec2/vpc:Vpc".
func typeName(typ string) string {
	return typ[strings.LastIndex(typ, ":")+1:]
}

var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                   "vpc-",
	"aws:ec2/subnet:Subnet":                             "subnet-",
	"aws:ec2/securityGroup:SecurityGroup":               "sg-",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
	"aws:ec2/securityGroupRule:SecurityGroupRule":       "sgrule-",
	"aws:ec2/routeTable:RouteTable":                     "rtb-",
	"aws:ec2/internetGateway:InternetGateway":           "igw-",
	"aws:ec2/natGateway:NatGateway":                     "nat-",
	"aws:ec2/eip:Eip":                                   "eipalloc-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   "vpce-",
	"aws:ec2/flowLog:FlowLog":                           "fl-",
	"aws:ec2/instance:Instance":                         "i-",
	"aws:ec2/launchTemplate:LaunchTemplate":             "lt-",
	"aws:ebs/volume:Volume":                             "vol-",
}

func idPrefix(typ string) string {
	if p, ok := idPrefixes[typ]; ok {
		return p
	}
	return typeName(typ) + "-"
}

// amiOf answers ec2.getAmi: an image of the architecture its filters ask for (x86_64 when they name
// none), whose ID is derived from the filters, so that two lookups of different images get different IDs.
// The account's own images are the ones its Image Builder pipelines made, with the tags Image Builder
// gives them ("Tag Image Builder output resources").
func amiOf(args resource.PropertyMap, region string) resource.PropertyMap {
	arch := "x86_64"
	key := ""
	if filters, ok := args["filters"]; ok && filters.IsArray() {
		for _, f := range filters.ArrayValue() {
			if !f.IsObject() {
				continue
			}
			name, values := f.ObjectValue()["name"], f.ObjectValue()["values"]
			if !name.IsString() || !values.IsArray() {
				continue
			}
			for _, v := range values.ArrayValue() {
				if v.IsString() {
					key += name.StringValue() + "=" + v.StringValue() + ";"
					if name.StringValue() == "architecture" {
						arch = v.StringValue()
					}
				}
			}
		}
	}
	sum := sha256.Sum256([]byte(key))
	id := "ami-0" + hex.EncodeToString(sum[:])[:16]
	if pinned, ok := filterValue(args, "image-id"); ok {
		id = pinned // an image looked up by ID is that image; the offline account's are x86_64 unless asked
	}
	tags := map[string]any{}
	if owners := args["owners"]; owners.IsArray() && len(owners.ArrayValue()) == 1 && owners.ArrayValue()[0] == resource.NewProperty("self") {
		tags = map[string]any{"CreatedBy": "EC2 Image Builder", "Ec2ImageBuilderArn": fmt.Sprintf("arn:aws:imagebuilder:%s:%s:image/offline-image/1.0.0/1", region, AccountID)}
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"id": id, "imageId": id, "name": "offline-image", "architecture": arch, "tags": tags,
	})
}

// filterValue is the first value of the lookup's filter name.
func filterValue(args resource.PropertyMap, name string) (string, bool) {
	filters := args["filters"]
	if !filters.IsArray() {
		return "", false
	}
	for _, f := range filters.ArrayValue() {
		if !f.IsObject() || f.ObjectValue()["name"] != resource.NewProperty(name) {
			continue
		}
		if values := f.ObjectValue()["values"]; values.IsArray() && len(values.ArrayValue()) > 0 && values.ArrayValue()[0].IsString() {
			return values.ArrayValue()[0].StringValue(), true
		}
	}
	return "", false
}

// image answers ecr.getImage: the named tag or digest exists, and a tag's digest is derived from the tag,
// so the same release always resolves to the same digest.
func image(region string, args resource.PropertyMap) resource.PropertyMap {
	str := func(k string) string {
		if v, ok := args[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	account := str("registryId")
	if account == "" {
		account = AccountID
	}
	repo, tag, digest := str("repositoryName"), str("imageTag"), str("imageDigest")
	if digest == "" {
		sum := sha256.Sum256([]byte(repo + ":" + tag))
		digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	var tags []any
	if tag != "" {
		tags = append(tags, tag)
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"id":             digest,
		"imageDigest":    digest,
		"imageTags":      tags,
		"registryId":     account,
		"repositoryName": repo,
		"imageUri":       fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s@%s", account, region, repo, digest),
	})
}
