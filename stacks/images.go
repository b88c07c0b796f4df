package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/naming"
)

// An image is pinned per stack in its configuration (hipaa:appImageId, dbImageId, monitoringImageId),
// so that only a change of the stack's file moves it: a look-up of the newest image would move every
// stack to a new AMI on its own whenever one is published, and the tiers' instance refresh would
// replace every host. Unpinned, a stack falls back to the newest image matching its name pattern, and
// says so; the stack exports the images it resolved, for pinning.

// imageSource is where a tier's image comes from when it is not pinned.
type imageSource struct {
	owner   string // "self" for the account's own images, "amazon" for Amazon Linux
	pattern string
	// patternKey is the configuration key of the pattern; empty for a fixed pattern.
	patternKey string
}

// image returns the image of a tier and its tags: the one pinned under key, checked to exist and to be
// of instanceType's architecture (an Arm image for a Graviton type, x86 for the others); or, when nothing
// is pinned, the newest image from src of that architecture.
func (s *stack) image(key, pinned, instanceType string, src imageSource) (pulumi.StringInput, map[string]string, error) {
	arch := check.Architecture(instanceType)
	if pinned != "" {
		image, err := ec2.LookupAmi(s.ctx, &ec2.LookupAmiArgs{
			Owners:  []string{src.owner},
			Filters: []ec2.GetAmiFilter{{Name: "image-id", Values: []string{pinned}}},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%s: the pinned image %s was not found among the %s images: %w", s.cfg.Project, key, pinned, src.owner, err)
		}
		if image.Architecture != arch {
			return nil, nil, fmt.Errorf("%s:%s: the pinned image %s is %s, but %s needs %s", s.cfg.Project, key, pinned, image.Architecture, instanceType, arch)
		}
		s.Images[key] = image.Id
		return pulumi.String(image.Id), image.Tags, nil
	}
	filters := []ec2.GetAmiFilter{
		{Name: "name", Values: []string{src.pattern}},
		{Name: "architecture", Values: []string{arch}},
		{Name: "state", Values: []string{"available"}},
	}
	image, err := ec2.LookupAmi(s.ctx, &ec2.LookupAmiArgs{Owners: []string{src.owner}, MostRecent: pulumi.BoolRef(true), Filters: filters})
	if err != nil {
		where := ""
		if src.patternKey != "" {
			where = fmt.Sprintf(" (config %s:%s)", s.cfg.Project, src.patternKey)
		}
		return nil, nil, fmt.Errorf("finding the newest %s image %q for %s%s: %w", arch, src.pattern, instanceType, where, err)
	}
	_ = s.ctx.Log.Warn(fmt.Sprintf("%s:%s is not set: using the newest %s image %q, %s, which moves when a newer one is published; pin it with `pulumi config set %s:%s %s`",
		s.cfg.Project, key, arch, src.pattern, image.Id, s.cfg.Project, key, image.Id), nil)
	s.Images[key] = image.Id
	return pulumi.String(image.Id), image.Tags, nil
}

// accountImage is the image the account built for the database or monitoring hosts, and the Image
// Builder image it was made as: the tag Image Builder gives each AMI it makes, empty for an image it did
// not make (which the pack's ec2-image-built-by-account refuses).
func (s *stack) accountImage(key, pinned, patternKey, pattern, instanceType string) (pulumi.StringInput, string, error) {
	id, tags, err := s.image(key, pinned, instanceType, imageSource{owner: "self", pattern: pattern, patternKey: patternKey})
	return id, tags[naming.ImageBuilderArnTag], err
}

// found is what a stack looks up in its account before it declares anything, so that a look-up that
// fails (an image that is not there, of the wrong architecture; no issued certificate) stops the update
// with nothing created.
type found struct {
	webImage, engineImage, dbImage, monitoringImage pulumi.StringInput
	// dbImageArn and monitoringImageArn are the Image Builder images those two were made as.
	dbImageArn, monitoringImageArn string
	certificateArn                 string
	// parentImage is what an account stack's image pipelines start from; sessions, the account's Session
	// Manager preferences.
	parentImage pulumi.StringInput
	sessions    *baseline.Sessions
}

// lookUp finds the images and the certificate.
func (s *stack) lookUp() (err error) {
	c := s.cfg
	f := &s.found
	if f.webImage, err = s.hostImage(c.InstanceTypes.App); err != nil {
		return err
	}
	if f.engineImage, err = s.hostImage(c.InstanceTypes.Engine); err != nil {
		return err
	}
	if f.dbImage, f.dbImageArn, err = s.accountImage("dbImageId", c.Images.Database, "dbImageName", c.Database.ImageName, c.InstanceTypes.Database); err != nil {
		return err
	}
	if f.monitoringImage, f.monitoringImageArn, err = s.accountImage("monitoringImageId", c.Images.Monitoring, "monitoringImageName", c.Monitoring.ImageName, c.InstanceTypes.Monitoring); err != nil {
		return err
	}
	cert, err := certificate(s.ctx, c.App.Domain)
	if err != nil {
		return fmt.Errorf("finding the issued certificate for %s (config %s:appDomain): %w", c.App.Domain, c.Project, err)
	}
	f.certificateArn = cert.Arn
	return nil
}

// hostImage is the application hosts' image: Amazon Linux 2023, which has Docker in its repositories and
// the AWS CLI installed. The web and engine tiers reach the package mirror through the NAT gateways; a
// new image is rolled out by the same instance refresh as a release.
func (s *stack) hostImage(instanceType string) (pulumi.StringInput, error) {
	arch := check.Architecture(instanceType)
	id, _, err := s.image("appImageId", s.cfg.Images.App, instanceType, imageSource{owner: "amazon", pattern: "al2023-ami-2023.*-kernel-*-" + arch})
	return id, err
}

// DebianAccount is the owner of Debian's official EC2 images, as the Debian cloud team's tooling and the
// public code that looks them up name it; not confirmed here on a page of Debian's own (see the README).
const DebianAccount = "136693071363"

// lookUpParentImage finds the Debian 12 image an account stack's pipelines start from: pinned
// (hipaa:imageParentId) or Debian's newest release image, whose name is debian-12-amd64-{date}-{build};
// "2*" leaves out the daily builds (debian-12-amd64-daily-...).
func (s *stack) lookUpParentImage() (err error) {
	s.found.parentImage, _, err = s.image("imageParentId", s.cfg.ImageBuild.ParentImage, s.cfg.ImageBuild.InstanceType,
		imageSource{owner: DebianAccount, pattern: "debian-12-amd64-2*"})
	return err
}
