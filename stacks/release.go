package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Release is the image a stack runs, as the stack exports it.
type Release struct {
	// Image is the image pinned by digest, as the hosts pull it.
	Image pulumi.StringOutput
	// RepositoryArn is the repository the hosts may pull from.
	RepositoryArn string
}

// newRegistry creates the account's repository on the stack that owns it, replicated when asked.
func newRegistry(ctx *pulumi.Context, n naming.Namer, cfg *Config, accountID string, p *Platform) (*registry.Repository, error) {
	args := &registry.RepositoryArgs{
		RepositoryName: RepositoryName(cfg.Project),
		KmsKeyArn:      p.Keys.S3KeyArn,
		AccountID:      accountID,
		Region:         cfg.Region,
		PullAccounts:   cfg.Registry.PullAccounts,
		ForceDelete:    cfg.ForceDestroy,
		Tags:           n.Tags(),
	}
	if r := cfg.Registry.ReplicaRegion; r != "" {
		provider, err := aws.NewProvider(ctx, n.Name("aws-"+r), &aws.ProviderArgs{Region: pulumi.String(r)})
		if err != nil {
			return nil, fmt.Errorf("configuring the provider for %s: %w", r, err)
		}
		keys, err := kms.NewKeys(ctx, n.Name("keys-"+r), &kms.KeysArgs{
			AccountID: accountID, Region: r, Purposes: []string{kms.S3}, Tags: n.Tags(),
		}, pulumi.Provider(provider), pulumi.Protect(cfg.Protect))
		if err != nil {
			return nil, err
		}
		args.Replica = &registry.Replica{Region: r, KmsKeyArn: keys.S3KeyArn, Provider: provider}
	}
	if cfg.Release.BuildContext != "" {
		args.Build = &registry.Build{Context: cfg.Release.BuildContext, Tag: cfg.Release.Ref.Tag}
	}
	return registry.NewRepository(ctx, n.Name("registry"), args, pulumi.Protect(cfg.Protect))
}

// resolveRelease pins the configured release to its digest. A pushed image is looked up in the
// repository, so a release that does not exist fails the preview before anything changes; on the owner
// stack the lookup waits for the repository, which a new account creates in the same update.
func resolveRelease(ctx *pulumi.Context, cfg *Config, accountID string, repo *registry.Repository) *Release {
	registryAccount := cfg.Registry.Account
	if registryAccount == "" {
		registryAccount = accountID
	}
	name := RepositoryName(cfg.Project)
	r := &Release{
		RepositoryArn: fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", iampolicy.Partition(cfg.Region), cfg.Region, registryAccount, name),
	}
	if repo != nil && cfg.Release.BuildContext != "" {
		r.Image = repo.ImageRef
		return r
	}
	ref := cfg.Release.Ref
	args := ecr.GetImageOutputArgs{RepositoryName: pulumi.String(name), RegistryId: pulumi.String(registryAccount)}
	if ref.Digest != "" {
		args.ImageDigest = pulumi.String(ref.Digest)
	} else {
		args.ImageTag = pulumi.String(ref.Tag)
	}
	var opts []pulumi.InvokeOption
	if repo != nil {
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{repo}))
	}
	found := ecr.GetImageOutput(ctx, args, opts...)
	r.Image = found.ImageDigest().ApplyT(func(digest string) string {
		return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s@%s", registryAccount, cfg.Region, name, digest)
	}).(pulumi.StringOutput)
	return r
}
