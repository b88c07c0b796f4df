// Package check holds the validations that both the stack configuration and the components' Args apply,
// so that a rule is written once. Each returns an error saying what is allowed; the caller prefixes the
// key or field it checked.
package check

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CIDR limits for a VPC: large enough to carve three tiers in up to six zones, small enough to stay a
// single VPC's block.
const (
	MinVpcPrefix = 16
	MaxVpcPrefix = 20
)

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// VpcCIDR checks that s is an RFC 1918 IPv4 block, written canonically, of prefix /16 to /20.
func VpcCIDR(s string) (netip.Prefix, error) {
	want := fmt.Sprintf("an RFC 1918 IPv4 CIDR block of prefix /%d to /%d, such as 10.0.0.0/16", MinVpcPrefix, MaxVpcPrefix)
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("got %q, want %s", s, want)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("got %q, which has host bits set (the block is %s), want %s", s, p.Masked(), want)
	}
	if p.Bits() < MinVpcPrefix || p.Bits() > MaxVpcPrefix {
		return netip.Prefix{}, fmt.Errorf("got %q, want %s", s, want)
	}
	if !slices.ContainsFunc(privateRanges, func(r netip.Prefix) bool { return r.Contains(p.Addr()) }) {
		return netip.Prefix{}, fmt.Errorf("got %q, which is not private address space, want %s", s, want)
	}
	return p, nil
}

// Zone counts: at least two for any failover, at most six, the most any region offers for these types.
const (
	MinZones = 2
	MaxZones = 6
)

// ZoneCount checks the number of availability zones a network spans.
func ZoneCount(n int) error {
	if n < MinZones || n > MaxZones {
		return fmt.Errorf("got %d, want %d to %d", n, MinZones, MaxZones)
	}
	return nil
}

// MinLogRetentionDays is the shortest time audit logs are kept: HIPAA asks for six years of the
// documentation of safeguards; a year of online logs is the floor the platform holds itself to, with
// longer retention a dial.
const MinLogRetentionDays = 365

// cloudWatchRetentions are the values CloudWatch Logs accepts for retentionInDays.
var cloudWatchRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
	2192, 2557, 2922, 3288, 3653}

// LogRetention checks a log retention in days: one CloudWatch Logs accepts, and at least the minimum.
func LogRetention(days int) error {
	var allowed []string
	for _, d := range cloudWatchRetentions {
		if d >= MinLogRetentionDays {
			allowed = append(allowed, strconv.Itoa(d))
		}
	}
	if days < MinLogRetentionDays || !slices.Contains(cloudWatchRetentions, days) {
		return fmt.Errorf("got %d, want one of %s", days, strings.Join(allowed, ", "))
	}
	return nil
}

// Backup retention bounds in days: long enough to recover from a corruption noticed late, at most the
// ten years S3 object lock is set for here.
const (
	MinBackupRetentionDays = 30
	MaxBackupRetentionDays = 3653
)

// BackupRetention checks a backup retention in days.
func BackupRetention(days int) error {
	if days < MinBackupRetentionDays || days > MaxBackupRetentionDays {
		return fmt.Errorf("got %d, want %d to %d days", days, MinBackupRetentionDays, MaxBackupRetentionDays)
	}
	return nil
}

// DedicatedFamilies are the instance families the platform runs on dedicated hardware: current
// generation, general purpose, compute and memory optimised, Intel, AMD and Graviton. Burstable (t*)
// types are left out: their CPU credits make capacity unpredictable, and they are not offered on
// dedicated hardware in every region.
var DedicatedFamilies = []string{
	"c5", "c5a", "c5n", "c6a", "c6g", "c6i", "c6in", "c7a", "c7g", "c7i",
	"m5", "m5a", "m5n", "m6a", "m6g", "m6i", "m6in", "m7a", "m7g", "m7i",
	"r5", "r5a", "r5n", "r6a", "r6g", "r6i", "r6in", "r7a", "r7g", "r7i",
	"i4i", "x2idn", "z1d",
}

var instanceType = regexp.MustCompile(`^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$`)

// platformSizes are the sizes the platform runs: from medium (where a family has it) to the largest.
var platformSizes = regexp.MustCompile(`^(medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[0-9]+xl)?)$`)

// DedicatedInstanceType checks that an EC2 instance type can run with dedicated tenancy on the
// platform: a family of DedicatedFamilies, in a size of medium or larger.
func DedicatedInstanceType(t string) error {
	m := instanceType.FindStringSubmatch(t)
	if m == nil {
		return fmt.Errorf("got %q, which is not an instance type (family.size, such as m6i.large)", t)
	}
	family, size := m[1], m[2]
	switch {
	case strings.HasPrefix(family, "t") && !slices.Contains(DedicatedFamilies, family):
		return fmt.Errorf("got %q, whose family %s does not run with dedicated tenancy here: it is burstable, its capacity depends on CPU credits, and not every burstable family is offered as Dedicated Instances; want a family of %s",
			t, family, strings.Join(DedicatedFamilies, ", "))
	case !slices.Contains(DedicatedFamilies, family):
		return fmt.Errorf("got %q, whose family %s does not run with dedicated tenancy here; want a family of %s",
			t, family, strings.Join(DedicatedFamilies, ", "))
	case !platformSizes.MatchString(size):
		return fmt.Errorf("got %q, whose size %s is too small to run with dedicated tenancy here; want medium or larger, such as %s.large", t, size, family)
	}
	return nil
}

// graviton matches the families of AWS's Arm processors: the generation followed by g (c6g, m7g, r6gd).
var graviton = regexp.MustCompile(`^[a-z]+[0-9]+g`)

// Architecture is the processor architecture of an instance type, as EC2 images name it: arm64 for the
// Graviton families, x86_64 for the others. An image must be of its instance's architecture.
func Architecture(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	if graviton.MatchString(family) {
		return "arm64"
	}
	return "x86_64"
}

// imageID is an AMI ID: ami- and 8 or 17 hexadecimal digits (EC2 API reference, "Resource IDs").
var imageID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ImageID checks an AMI ID.
func ImageID(s string) error {
	if !imageID.MatchString(s) {
		return fmt.Errorf("got %q, want an AMI ID such as ami-0123456789abcdef0", s)
	}
	return nil
}

// Regions are the AWS regions a stack may name, as pulumi-aws v6.83.4 lists them (sdk/go/aws/pulumiEnums.go,
// type Region): commercial, China, GovCloud and the isolated regions.
var Regions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "cn-north-1", "cn-northwest-1",
	"us-gov-east-1", "us-gov-west-1", "us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "eu-isoe-west-1",
}

// Region checks an AWS region name.
func Region(s string) error {
	if !slices.Contains(Regions, s) {
		return fmt.Errorf("got %q, which is not an AWS region; want one such as us-east-1 (the regions are %s)", s, strings.Join(Regions, ", "))
	}
	return nil
}

// Between returns a check that an integer is within [min, max].
func Between(min, max int) func(int) error {
	return func(n int) error {
		if n < min || n > max {
			return fmt.Errorf("got %d, want %d to %d", n, min, max)
		}
		return nil
	}
}

// OneOf checks that s is one of allowed.
func OneOf(s string, allowed ...string) error {
	if !slices.Contains(allowed, s) {
		return fmt.Errorf("got %q, want one of %s", s, strings.Join(allowed, ", "))
	}
	return nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool { return accountID.MatchString(s) }

// ModernTLSPolicy reports whether an Elastic Load Balancing security policy allows only TLS 1.2 or newer.
func ModernTLSPolicy(name string) bool {
	for _, prefix := range []string{"ELBSecurityPolicy-TLS13-", "ELBSecurityPolicy-TLS-1-2", "ELBSecurityPolicy-FS-1-2", "ELBSecurityPolicy-TLS-1-3"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

var certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)

// CertificateArn checks an ACM certificate ARN.
func CertificateArn(s string) error {
	if !certificateArn.MatchString(s) {
		return fmt.Errorf("got %q, want an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/ID", s)
	}
	return nil
}

var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// HostName checks a fully qualified DNS host name, such as app.example.com.
func HostName(s string) error {
	if len(s) > 253 || !hostName.MatchString(s) {
		return fmt.Errorf("got %q, want a lower-case DNS host name such as app.example.com", s)
	}
	return nil
}

// cronSchedule is a cron expression of six fields, as EC2 Image Builder's pipelines and Systems Manager's
// maintenance windows and associations take: cron(minutes hours day-of-month month day-of-week year).
var cronSchedule = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)

// CronSchedule checks a six-field cron expression; example is one to suggest.
func CronSchedule(s, example string) error {
	if !cronSchedule.MatchString(s) {
		return fmt.Errorf("%q is not a cron expression of six fields, such as %s", s, example)
	}
	return nil
}

var recorderName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// ConfigRecorderName checks the name of an AWS Config recorder: AWS Config takes 1 to 256 characters, and
// the platform keeps to letters, digits, hyphens and underscores.
func ConfigRecorderName(s string) error {
	if !recorderName.MatchString(s) {
		return fmt.Errorf("got %q, want 1 to 256 letters, digits, hyphens and underscores, such as default", s)
	}
	return nil
}
