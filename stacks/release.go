package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/iampolicy"
)

// Release is the image a stack runs, as the stack exports it.
type Release struct {
	// Image is the image pinned by digest, as the hosts pull it.
	Image pulumi.StringOutput
	// RepositoryArn is the repository the hosts may pull from.
	RepositoryArn string
}

// registry creates the account's repositories on its account stack, when that owns them (registryOwner):
// the releases, replicated where asked, and the builds.
func (s *stack) registry() (err error) {
	cfg := s.cfg
	if !cfg.Registry.Owner {
		return nil
	}
	args := &registry.RepositoryArgs{
		RepositoryName: RepositoryName(cfg.Project),
		KmsKeyArn:      s.Keys.S3KeyArn,
		AccountID:      s.account,
		Region:         cfg.Region,
		PullAccounts:   cfg.Registry.PullAccounts,
		// Releases replicate to the accounts that run them; builds and pull-request images live apart,
		// where no replication reaches, in the account that builds (not one that receives releases).
		ReplicateTo:          cfg.Registry.ReplicateTo,
		AdmitReplicationFrom: cfg.Registry.ReplicateFrom,
		ForceDelete:          cfg.ForceDestroy,
		Tags:                 s.n.Tags(),
	}
	if r := cfg.Registry.ReplicaRegion; r != "" {
		provider, err := aws.NewProvider(s.ctx, s.n.Name("aws-"+r), &aws.ProviderArgs{Region: pulumi.String(r)})
		if err != nil {
			return fmt.Errorf("configuring the provider for %s: %w", r, err)
		}
		keys, err := kms.NewKeys(s.ctx, s.n.Name("keys-"+r), &kms.KeysArgs{
			AccountID: s.account, Region: r, Purposes: []string{kms.S3}, Tags: s.n.Tags(),
		}, pulumi.Provider(provider), s.stateful())
		if err != nil {
			return err
		}
		args.Replica = &registry.Replica{Region: r, KmsKeyArn: keys.S3KeyArn, Provider: provider}
	}
	if len(cfg.Registry.ReplicateFrom) == 0 {
		args.BuildRepositoryName = BuildRepositoryName(cfg.Project)
	}
	if cfg.Release.BuildContext != "" {
		args.Build = &registry.Build{Context: cfg.Release.BuildContext, TagPrefix: cfg.Release.Ref.Tag}
	}
	s.Registry, err = registry.NewRepository(s.ctx, s.n.Name("registry"), args, s.stateful())
	return err
}

// release pins the configured release to its digest. The image is looked up in the account's
// repository (its account stack made it), so a release that does not exist fails the preview before
// anything changes.
func (s *stack) release() error {
	s.Release = resolveRelease(s.ctx, s.cfg, s.account)
	return nil
}

func resolveRelease(ctx *pulumi.Context, cfg *Config, accountID string) *Release {
	registryAccount := cfg.Registry.Account
	if registryAccount == "" {
		registryAccount = accountID
	}
	name := RepositoryName(cfg.Project)
	r := &Release{
		RepositoryArn: registry.RepositoryArn(iampolicy.Partition(cfg.Region), cfg.Region, registryAccount, name),
	}
	ref := cfg.Release.Ref
	args := ecr.GetImageOutputArgs{RepositoryName: pulumi.String(name), RegistryId: pulumi.String(registryAccount)}
	if ref.Digest != "" {
		args.ImageDigest = pulumi.String(ref.Digest)
	} else {
		args.ImageTag = pulumi.String(ref.Tag)
	}
	found := ecr.GetImageOutput(ctx, args)
	r.Image = found.ImageDigest().ApplyT(func(digest string) string {
		return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s@%s", registryAccount, cfg.Region, name, digest)
	}).(pulumi.StringOutput)
	return r
}
