package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:registry:Repository"

// Defaults, and the bounds of the retention dials.
const (
	defaultUntaggedDays = 7
	defaultBuildDays    = 14
	MaxRetentionDays    = 365
	// keptReleases is how many images of each release prefix the keep rule holds on to: more than a
	// repository can store (ECR allows 20,000 images per repository by default), so in practice none is
	// ever expired. ECR has no rule that keeps without a bound.
	keptReleases = 100000
)

// DefaultReleasePrefixes and DefaultBuildPrefixes are the tag conventions of the platform's pipelines: main
// pushes release-<commit> (and people tag v<semver>); pull requests push build-<commit> or pr-<number>.
var (
	DefaultReleasePrefixes = []string{"release-", "v"}
	DefaultBuildPrefixes   = []string{"build-", "pr-"}
)

// PullActions are what a puller needs, and all the repository policy grants.
var PullActions = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"}

// Replica replicates the repository into a second region.
type Replica struct {
	// Region is the replica's region, different from the repository's. Required.
	Region string
	// KmsKeyArn is a customer-managed key in that region, which encrypts the replica. Required.
	KmsKeyArn pulumi.StringInput
	// Provider is an AWS provider for that region. Required.
	Provider pulumi.ProviderResource
}

// Build builds an image from a context and pushes it to the repository.
type Build struct {
	// Context is the build context directory. Required.
	Context string
	// Dockerfile is the Dockerfile's path. Optional; default Context/Dockerfile.
	Dockerfile string
	// TagPrefix begins the tag the build is pushed under, ContentTag's: the prefix, a hyphen and 12 hex
	// digits of the build's content. A release prefix (release) keeps the build for as long as a stack may
	// run it. Required.
	TagPrefix string
	// Platform is the target platform. Optional; default linux/amd64, the hosts' architecture.
	Platform string
}

// RepositoryArgs configures the repository.
type RepositoryArgs struct {
	// RepositoryName is the repository's name: lower-case letters, digits and . _ - /. Required.
	RepositoryName string
	// KmsKeyArn is the customer-managed key that encrypts the images. Required.
	KmsKeyArn pulumi.StringInput
	// AccountID is the 12-digit account that owns the repository. Required.
	AccountID string
	// Region is the repository's region. Required.
	Region string
	// PullAccounts are further accounts whose principals may pull, for promotion across accounts (the
	// production account pulls what the non-production account built). Optional.
	PullAccounts []string
	// ReleasePrefixes are the tag prefixes of released images, which are never expired. Optional;
	// default DefaultReleasePrefixes.
	ReleasePrefixes []string
	// BuildPrefixes are the tag prefixes of throw-away builds, expired after BuildDays. Optional; default
	// DefaultBuildPrefixes. No build prefix may begin a release prefix or the other way round.
	BuildPrefixes []string
	// BuildDays is how long a build-tagged image is kept, 1 to 365 days. Optional; default 14.
	BuildDays int
	// UntaggedDays is how long an untagged image is kept, 1 to 365 days. Optional; default 7.
	UntaggedDays int
	// Replica replicates the repository into another region. Optional. ECR's replication configuration is
	// one per registry, so only one stack per account may set it.
	Replica *Replica
	// ReplicateTo are accounts whose registries, in the same region, receive every image pushed to the
	// repository (ECR cross-account replication): the production account, from the one that builds.
	// Each must admit it (AdmitReplicationFrom on its own owner) and hold the repository, made there
	// with its own key. Optional.
	ReplicateTo []string
	// AdmitReplicationFrom are accounts whose registries may replicate into this repository: a registry
	// policy that grants them ecr:ReplicateImage on it, and not ecr:CreateRepository, so replication
	// can never make a repository here without this one's key (ECR would make it with AES-256, mutable
	// tags and no scanning: ECR user guide, private image replication). Optional.
	AdmitReplicationFrom []string
	// BuildRepositoryName is a second repository, for build and pull-request images, which no
	// replication reaches: ECR filters replication by repository-name prefix only (API reference,
	// RepositoryFilter: "The only supported value is PREFIX_MATCH"), so builds kept apart from releases
	// are the way to replicate releases alone. It must not begin with RepositoryName. Optional.
	BuildRepositoryName string
	// Build builds and pushes an image. Optional.
	Build *Build
	// ForceDelete lets a destroy delete the repository with its images, for throw-away demo stacks.
	// Optional; default false.
	ForceDelete bool
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Repository is the registry's repository.
type Repository struct {
	pulumi.ResourceState

	// RepositoryName is the repository's name.
	RepositoryName pulumi.StringOutput `pulumi:"repositoryName"`
	// RepositoryUrl is where images are pushed and pulled: registry host/repository name.
	RepositoryUrl pulumi.StringOutput `pulumi:"repositoryUrl"`
	// Arn is the repository's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
	// BuildRepositoryUrl is where builds are pushed; empty without BuildRepositoryName.
	BuildRepositoryUrl pulumi.StringOutput `pulumi:"buildRepositoryUrl"`
	// ImageRef is the built image by digest (repository@sha256:...); empty without Build.
	ImageRef pulumi.StringOutput `pulumi:"imageRef"`
	// BuildTag is the tag the build was pushed under; empty without Build.
	BuildTag string
}

var (
	repoName  = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	tagPrefix = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)
)

func (a *RepositoryArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("registry %q: args are required", name)
	}
	if len(a.RepositoryName) < 2 || len(a.RepositoryName) > 256 || !repoName.MatchString(a.RepositoryName) {
		return fmt.Errorf("registry %q: RepositoryName %q must be 2 to 256 lower-case letters, digits and . _ - / separated names", name, a.RepositoryName)
	}
	if a.KmsKeyArn == nil {
		return fmt.Errorf("registry %q: KmsKeyArn is required: images are encrypted with a customer key", name)
	}
	if !check.IsAccountID(a.AccountID) {
		return fmt.Errorf("registry %q: AccountID %q is not a 12-digit AWS account ID", name, a.AccountID)
	}
	if a.Region == "" {
		return fmt.Errorf("registry %q: Region is required", name)
	}
	for field, accounts := range map[string][]string{"PullAccounts": a.PullAccounts, "ReplicateTo": a.ReplicateTo, "AdmitReplicationFrom": a.AdmitReplicationFrom} {
		for i, acct := range accounts {
			switch {
			case !check.IsAccountID(acct):
				return fmt.Errorf("registry %q: %s[%d] %q is not a 12-digit AWS account ID", name, field, i, acct)
			case field != "PullAccounts" && acct == a.AccountID:
				return fmt.Errorf("registry %q: %s[%d] is the repository's own account %s; name the other account", name, field, i, acct)
			}
		}
	}
	if b := a.BuildRepositoryName; b != "" {
		switch {
		case len(b) < 2 || len(b) > 256 || !repoName.MatchString(b):
			return fmt.Errorf("registry %q: BuildRepositoryName %q must be 2 to 256 lower-case letters, digits and . _ - / separated names", name, b)
		case strings.HasPrefix(b, a.RepositoryName):
			return fmt.Errorf("registry %q: BuildRepositoryName %q begins with RepositoryName %q, so replication, which matches names by prefix, would copy the builds too", name, b, a.RepositoryName)
		}
	}
	for field, prefixes := range map[string][]string{"ReleasePrefixes": a.ReleasePrefixes, "BuildPrefixes": a.BuildPrefixes} {
		for i, p := range prefixes {
			if !tagPrefix.MatchString(p) {
				return fmt.Errorf("registry %q: %s[%d] %q must be 1 to 32 letters, digits, '_', '.' or '-'", name, field, i, p)
			}
		}
	}
	release, builds := a.ReleasePrefixes, a.BuildPrefixes
	if release == nil {
		release = DefaultReleasePrefixes
	}
	if builds == nil {
		builds = DefaultBuildPrefixes
	}
	for _, r := range release {
		for _, b := range builds {
			if strings.HasPrefix(r, b) || strings.HasPrefix(b, r) {
				return fmt.Errorf("registry %q: BuildPrefixes %q and ReleasePrefixes %q overlap, so a release could be expired as a build; want disjoint prefixes", name, b, r)
			}
		}
	}
	for field, days := range map[string]int{"BuildDays": a.BuildDays, "UntaggedDays": a.UntaggedDays} {
		if days != 0 {
			if err := check.Between(1, MaxRetentionDays)(days); err != nil {
				return fmt.Errorf("registry %q: %s: %w", name, field, err)
			}
		}
	}
	if r := a.Replica; r != nil {
		switch {
		case r.Region == "" || r.Region == a.Region:
			return fmt.Errorf("registry %q: Replica.Region %q must name a region other than %s", name, r.Region, a.Region)
		case r.KmsKeyArn == nil:
			return fmt.Errorf("registry %q: Replica.KmsKeyArn is required: the replica is encrypted with a customer key of its region", name)
		case r.Provider == nil:
			return fmt.Errorf("registry %q: Replica.Provider is required: an AWS provider for %s", name, r.Region)
		}
	}
	if b := a.Build; b != nil {
		if b.Context == "" {
			return fmt.Errorf("registry %q: Build.Context is required: the directory to build", name)
		}
		if !tagPrefix.MatchString(b.TagPrefix) {
			return fmt.Errorf("registry %q: Build.TagPrefix %q must be 1 to 32 letters, digits, '_', '.' or '-'", name, b.TagPrefix)
		}
		if info, err := os.Stat(b.Context); err != nil || !info.IsDir() {
			return fmt.Errorf("registry %q: Build.Context %q is not a directory to build", name, b.Context)
		}
	}
	return nil
}

func (a RepositoryArgs) withDefaults() RepositoryArgs {
	if a.ReleasePrefixes == nil {
		a.ReleasePrefixes = DefaultReleasePrefixes
	}
	if a.BuildPrefixes == nil {
		a.BuildPrefixes = DefaultBuildPrefixes
	}
	if a.BuildDays == 0 {
		a.BuildDays = defaultBuildDays
	}
	if a.UntaggedDays == 0 {
		a.UntaggedDays = defaultUntaggedDays
	}
	if b := a.Build; b != nil && b.Platform == "" {
		copied := *b
		copied.Platform = "linux/amd64"
		a.Build = &copied
	}
	return a
}

// NewRepository creates the repository, its policies, its replica and, when asked, the built image.
func NewRepository(ctx *pulumi.Context, name string, args *RepositoryArgs, opts ...pulumi.ResourceOption) (*Repository, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()

	comp := &Repository{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	repo, err := newRepository(ctx, name, a.RepositoryName, a.KmsKeyArn, a.ForceDelete, a.Tags, parent)
	if err != nil {
		return nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(LifecyclePolicy(a.ReleasePrefixes, a.BuildPrefixes, a.BuildDays, a.UntaggedDays)),
	}, parent); err != nil {
		return nil, fmt.Errorf("setting the lifecycle policy: %w", err)
	}
	partition := iampolicy.Partition(a.Region)
	if _, err := ecr.NewRepositoryPolicy(ctx, name, &ecr.RepositoryPolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(RepositoryPolicy(partition, append([]string{a.AccountID}, a.PullAccounts...))),
	}, parent); err != nil {
		return nil, fmt.Errorf("setting the repository policy: %w", err)
	}
	if err := replicate(ctx, name, a, parent); err != nil {
		return nil, err
	}
	if len(a.AdmitReplicationFrom) > 0 {
		if _, err := ecr.NewRegistryPolicy(ctx, name, &ecr.RegistryPolicyArgs{
			Policy: pulumi.String(ReplicationPolicy(partition, a.Region, a.AccountID, a.RepositoryName, a.AdmitReplicationFrom)),
		}, parent, pulumi.DependsOn([]pulumi.Resource{repo})); err != nil {
			return nil, fmt.Errorf("admitting replication: %w", err)
		}
	}
	comp.BuildRepositoryUrl = pulumi.String("").ToStringOutput()
	if a.BuildRepositoryName != "" {
		builds, err := newRepository(ctx, name+"-builds", a.BuildRepositoryName, a.KmsKeyArn, a.ForceDelete, a.Tags, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-builds", &ecr.LifecyclePolicyArgs{
			Repository: builds.Name,
			Policy:     pulumi.String(LifecyclePolicy(nil, a.BuildPrefixes, a.BuildDays, a.UntaggedDays)),
		}, parent); err != nil {
			return nil, fmt.Errorf("setting the builds' lifecycle policy: %w", err)
		}
		if _, err := ecr.NewRepositoryPolicy(ctx, name+"-builds", &ecr.RepositoryPolicyArgs{
			Repository: builds.Name,
			Policy:     pulumi.String(RepositoryPolicy(partition, []string{a.AccountID})),
		}, parent); err != nil {
			return nil, fmt.Errorf("setting the builds' repository policy: %w", err)
		}
		comp.BuildRepositoryUrl = builds.RepositoryUrl
	}

	comp.RepositoryName = repo.Name
	comp.RepositoryUrl = repo.RepositoryUrl
	comp.Arn = repo.Arn
	comp.ImageRef = pulumi.String("").ToStringOutput()
	if b := a.Build; b != nil {
		if comp.BuildTag, err = ContentTag(b.TagPrefix, b.Context, b.Dockerfile, b.Platform); err != nil {
			return nil, fmt.Errorf("registry %q: %w", name, err)
		}
		if comp.ImageRef, err = build(ctx, name, a, repo, comp); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"repositoryName":     comp.RepositoryName,
		"repositoryUrl":      comp.RepositoryUrl,
		"arn":                comp.Arn,
		"buildRepositoryUrl": comp.BuildRepositoryUrl,
		"imageRef":           comp.ImageRef,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// newRepository creates one encrypted, scanned repository with immutable tags; the replica is made the
// same way in its own region.
func newRepository(ctx *pulumi.Context, name, repoName string, key pulumi.StringInput, forceDelete bool, tags map[string]string, opts ...pulumi.ResourceOption) (*ecr.Repository, error) {
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name:               pulumi.String(repoName),
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS"), KmsKey: key},
		},
		ForceDelete: pulumi.Bool(forceDelete),
		Tags:        naming.Tags(tags, name),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating repository %s: %w", repoName, err)
	}
	return repo, nil
}

// replicate configures the registry's one replication rule for the repository: to the replica's
// region, whose repository it creates first (so that replication finds it encrypted with that region's
// customer key rather than creating it with AES-256), and to each account of ReplicateTo, whose owner
// made the repository with its own key. The rule's filter is the repository's name: ECR matches it as a
// prefix, which BuildRepositoryName is refused to begin with.
func replicate(ctx *pulumi.Context, name string, a RepositoryArgs, parent pulumi.ResourceOption) error {
	var destinations ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArray
	var after []pulumi.Resource
	if r := a.Replica; r != nil {
		replica, err := newRepository(ctx, name+"-replica", a.RepositoryName, r.KmsKeyArn, a.ForceDelete, a.Tags, parent, pulumi.Provider(r.Provider))
		if err != nil {
			return err
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-replica", &ecr.LifecyclePolicyArgs{
			Repository: replica.Name,
			Policy:     pulumi.String(LifecyclePolicy(a.ReleasePrefixes, a.BuildPrefixes, a.BuildDays, a.UntaggedDays)),
		}, parent, pulumi.Provider(r.Provider)); err != nil {
			return fmt.Errorf("setting the replica's lifecycle policy: %w", err)
		}
		destinations = append(destinations, ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs{
			Region: pulumi.String(r.Region), RegistryId: pulumi.String(a.AccountID),
		})
		after = append(after, replica)
	}
	for _, acct := range slices.Sorted(slices.Values(a.ReplicateTo)) {
		destinations = append(destinations, ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs{
			Region: pulumi.String(a.Region), RegistryId: pulumi.String(acct),
		})
	}
	if len(destinations) == 0 {
		return nil
	}
	if _, err := ecr.NewReplicationConfiguration(ctx, name, &ecr.ReplicationConfigurationArgs{
		ReplicationConfiguration: ecr.ReplicationConfigurationReplicationConfigurationArgs{
			Rules: ecr.ReplicationConfigurationReplicationConfigurationRuleArray{
				ecr.ReplicationConfigurationReplicationConfigurationRuleArgs{
					Destinations: destinations,
					RepositoryFilters: ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArray{
						ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs{
							Filter: pulumi.String(a.RepositoryName), FilterType: pulumi.String("PREFIX_MATCH"),
						},
					},
				},
			},
		},
	}, parent, pulumi.DependsOn(after)); err != nil {
		return fmt.Errorf("configuring replication: %w", err)
	}
	return nil
}

// build builds the context and pushes it with a registry token obtained at deployment (never stored), and
// returns the pushed image by digest.
func build(ctx *pulumi.Context, name string, a RepositoryArgs, repo *ecr.Repository, comp *Repository) (pulumi.StringOutput, error) {
	token := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{
		RegistryId: repo.RegistryId,
	}, pulumi.Parent(comp))
	var dockerfile pulumi.StringPtrInput
	if a.Build.Dockerfile != "" {
		dockerfile = pulumi.String(a.Build.Dockerfile)
	}
	img, err := docker.NewImage(ctx, name+"-image", &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, comp.BuildTag),
		Build: docker.DockerBuildArgs{
			Context:    pulumi.String(a.Build.Context),
			Dockerfile: dockerfile,
			Platform:   pulumi.String(a.Build.Platform),
		},
		Registry: docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: token.UserName(),
			Password: pulumi.ToSecret(token.Password()).(pulumi.StringOutput),
		},
	}, pulumi.Parent(comp))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("building the image: %w", err)
	}
	return img.RepoDigest, nil
}

type lifecycleRule struct {
	RulePriority int               `json:"rulePriority"`
	Description  string            `json:"description"`
	Selection    lifecycleSelector `json:"selection"`
	Action       map[string]string `json:"action"`
}

type lifecycleSelector struct {
	TagStatus     string   `json:"tagStatus"`
	TagPrefixList []string `json:"tagPrefixList,omitempty"`
	CountType     string   `json:"countType"`
	CountUnit     string   `json:"countUnit,omitempty"`
	CountNumber   int      `json:"countNumber"`
}

// LifecyclePolicy returns the repository's lifecycle policy. ECR lets no lower-priority rule expire an
// image that a higher-priority rule's tags match, so each release prefix gets a rule of its own first
// (a prefix list matches only images that carry every prefix), which in practice never expires anything
// and shields an image that also carries a build tag; then one rule per build prefix expires builds
// after buildDays; last, untagged images go after untaggedDays.
func LifecyclePolicy(releasePrefixes, buildPrefixes []string, buildDays, untaggedDays int) string {
	var rules []lifecycleRule
	add := func(description string, s lifecycleSelector) {
		rules = append(rules, lifecycleRule{RulePriority: len(rules) + 1, Description: description, Selection: s, Action: map[string]string{"type": "expire"}})
	}
	for _, p := range slices.Sorted(slices.Values(releasePrefixes)) {
		add(fmt.Sprintf("keep releases tagged %s*", p), lifecycleSelector{TagStatus: "tagged", TagPrefixList: []string{p}, CountType: "imageCountMoreThan", CountNumber: keptReleases})
	}
	for _, p := range slices.Sorted(slices.Values(buildPrefixes)) {
		add(fmt.Sprintf("expire builds tagged %s* after %d days", p, buildDays), lifecycleSelector{TagStatus: "tagged", TagPrefixList: []string{p}, CountType: "sinceImagePushed", CountUnit: "days", CountNumber: buildDays})
	}
	add(fmt.Sprintf("expire untagged images after %d days", untaggedDays), lifecycleSelector{TagStatus: "untagged", CountType: "sinceImagePushed", CountUnit: "days", CountNumber: untaggedDays})
	b, err := json.Marshal(map[string]any{"rules": rules})
	if err != nil {
		panic(fmt.Sprintf("registry: %v", err)) // plain strings and numbers always marshal
	}
	return string(b)
}

// RepositoryPolicy lets the named accounts pull, and nobody else: the accounts' own IAM policies then
// decide which of their principals may.
func RepositoryPolicy(partition string, accounts []string) string {
	return iampolicy.New(iampolicy.Allow("PullWithinTrustedAccounts", PullActions, nil).ForAccounts(partition, accounts)).JSON()
}

// RepositoryArn is the ARN of the repository name in account's registry of region.
func RepositoryArn(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partition, region, account, name)
}

// ReplicationPolicy is the registry policy that lets the source accounts' registries replicate into the
// repository, and nothing else: ecr:ReplicateImage on that repository alone (the form of the ECR user
// guide's "Allow the root user of a source account to replicate", without ecr:CreateRepository).
func ReplicationPolicy(partition, region, account, repository string, sources []string) string {
	s := iampolicy.Allow("ReplicateReleasesFromTrustedAccounts", []string{"ecr:ReplicateImage"},
		[]string{RepositoryArn(partition, region, account, repository)})
	return iampolicy.New(s.ForAccounts(partition, sources)).JSON()
}
