package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/placeholder"
)

// repository is the component under test, run as a program of its own.
var repository = offlinetest.For(NewRepository, "hipaa-unit-registry")

const (
	account = "123456789012"
	prod    = "210987654321"
	key     = "arn:aws:kms:us-east-1:123456789012:key/ecr"
)

func args() *RepositoryArgs {
	return &RepositoryArgs{
		RepositoryName: "hipaa-app",
		KmsKeyArn:      pulumi.String(key),
		AccountID:      account,
		Region:         "us-east-1",
		PullAccounts:   []string{prod},
		Tags:           map[string]string{"DataClass": "phi"},
	}
}

func TestRepositoryIsEncryptedImmutableAndScanned(t *testing.T) {
	t.Parallel()
	rs := repository.MustRun(t, (args()))
	repo := offlinetest.One(t, rs, "aws:ecr/repository:Repository")
	for path, want := range map[string]any{
		"imageTagMutability":                        "IMMUTABLE",
		"imageScanningConfiguration.scanOnPush":     true,
		"encryptionConfigurations.0.encryptionType": "KMS",
		"encryptionConfigurations.0.kmsKey":         key,
		"forceDelete":                               false,
		"tags.DataClass":                            "phi",
	} {
		if got := repo.Value(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if n := len(offlinetest.Of(rs, "aws:ecr/replicationConfiguration:ReplicationConfiguration")); n != 0 {
		t.Errorf("%d replication configurations without a Replica", n)
	}
}

func TestRepositoryPolicyNamesOnlyTheTrustedAccounts(t *testing.T) {
	t.Parallel()
	rs := repository.MustRun(t, (args()))
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS []string }
			Action    []string
		}
	}
	if err := json.Unmarshal([]byte(offlinetest.One(t, rs, "aws:ecr/repositoryPolicy:RepositoryPolicy").String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("statements = %+v, want one", doc.Statement)
	}
	s := doc.Statement[0]
	want := []string{"arn:aws:iam::" + account + ":root", "arn:aws:iam::" + prod + ":root"}
	if s.Effect != "Allow" || strings.Join(s.Principal.AWS, ",") != strings.Join(want, ",") {
		t.Errorf("statement = %+v, want an Allow to exactly %v", s, want)
	}
	for _, a := range s.Action {
		if !strings.HasPrefix(a, "ecr:") || strings.Contains(a, "*") || strings.Contains(a, "Put") || strings.Contains(a, "Delete") {
			t.Errorf("action %q is more than a pull", a)
		}
	}
}

// TestLifecycleNeverExpiresAReleaseButExpiresBuilds simulates ECR's documented rule evaluation over the
// policy the component writes: rules in priority order; an image whose tags a rule matches is claimed
// by that rule and cannot be expired by any later one.
func TestLifecycleNeverExpiresAReleaseButExpiresBuilds(t *testing.T) {
	t.Parallel()
	rs := repository.MustRun(t, (args()))
	var policy struct{ Rules []lifecycleRule }
	if err := json.Unmarshal([]byte(offlinetest.One(t, rs, "aws:ecr/lifecyclePolicy:LifecyclePolicy").String("policy")), &policy); err != nil {
		t.Fatal(err)
	}
	for i, r := range policy.Rules {
		if r.RulePriority != i+1 || r.Action["type"] != "expire" {
			t.Fatalf("rule %d = %+v", i, r)
		}
	}
	type image struct {
		tags    []string
		ageDays int
	}
	expired := func(img image) bool {
		for _, r := range policy.Rules {
			s := r.Selection
			matches := s.TagStatus == "untagged" && len(img.tags) == 0
			if s.TagStatus == "tagged" {
				matches = len(img.tags) > 0
				for _, p := range s.TagPrefixList {
					any := false
					for _, tag := range img.tags {
						any = any || strings.HasPrefix(tag, p)
					}
					matches = matches && any
				}
			}
			if !matches {
				continue
			}
			switch s.CountType {
			case "sinceImagePushed":
				return img.ageDays > s.CountNumber
			case "imageCountMoreThan":
				return s.CountNumber < 1 // one image of its kind: expired only by a zero count
			}
		}
		return false
	}
	for _, tc := range []struct {
		img  image
		want bool
	}{
		{image{nil, 8}, true},
		{image{nil, 6}, false},
		{image{[]string{"build-1a2b"}, 15}, true},
		{image{[]string{"pr-42"}, 15}, true},
		{image{[]string{"pr-42"}, 13}, false},
		{image{[]string{"release-1a2b"}, 3650}, false},
		{image{[]string{"v1.4.2"}, 3650}, false},
		{image{[]string{"build-1a2b", "release-1a2b"}, 3650}, false},
		{image{[]string{"pr-7", "v2.0.0"}, 3650}, false},
		{image{[]string{"latest-experiment"}, 3650}, false},
	} {
		if got := expired(tc.img); got != tc.want {
			t.Errorf("image tagged %v, %d days old: expired = %v, want %v", tc.img.tags, tc.img.ageDays, got, tc.want)
		}
	}
}

func TestReplicaIsEncryptedWithItsRegionsKey(t *testing.T) {
	t.Parallel()
	rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		west, err := aws.NewProvider(ctx, "us-west-2", &aws.ProviderArgs{Region: pulumi.String("us-west-2")})
		if err != nil {
			return err
		}
		a := args()
		a.Replica = &Replica{Region: "us-west-2", KmsKeyArn: pulumi.String("arn:aws:kms:us-west-2:123456789012:key/ecr"), Provider: west}
		_, err = NewRepository(ctx, "hipaa-unit-registry", a)
		return err
	})
	replica, ok := offlinetest.Named(rs, "aws:ecr/repository:Repository", "hipaa-unit-registry-replica")
	if !ok {
		t.Fatal("no replica repository")
	}
	if got := replica.String("encryptionConfigurations.0.kmsKey"); !strings.Contains(got, "us-west-2") {
		t.Errorf("replica key = %q, want the us-west-2 key", got)
	}
	if replica.Value("imageTagMutability") != "IMMUTABLE" {
		t.Errorf("replica tags are mutable")
	}
	rc := offlinetest.One(t, rs, "aws:ecr/replicationConfiguration:ReplicationConfiguration")
	if got := rc.String("replicationConfiguration.rules.0.destinations.0.region"); got != "us-west-2" {
		t.Errorf("destination region = %q", got)
	}
	if got := rc.String("replicationConfiguration.rules.0.repositoryFilters.0.filter"); got != "hipaa-app" {
		t.Errorf("filter = %q, want only this repository", got)
	}
}

func TestBuildPushesWithTheRegistryTokenAndReferencesByDigest(t *testing.T) {
	t.Parallel()
	// The apply runs on a goroutine of its own: its result comes over a channel, ordered before the read.
	refs := make(chan string, 1)
	context := buildContext(t, "FROM scratch\n")
	tag, err := ContentTag("release", context, "", "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		a := args()
		a.Build = &Build{Context: context, TagPrefix: "release"}
		r, err := NewRepository(ctx, "hipaa-unit-registry", a)
		if err != nil {
			return err
		}
		r.ImageRef.ApplyT(func(s string) string { refs <- s; return s })
		return nil
	})
	img := offlinetest.One(t, rs, "docker:index/image:Image")
	if got := img.String("imageName"); !strings.HasSuffix(got, ".amazonaws.com/hipaa-app:"+tag) {
		t.Errorf("imageName = %q", got)
	}
	if got := img.String("build.platform"); got != "linux/amd64" {
		t.Errorf("platform = %q", got)
	}
	if got := img.String("registry.password"); got != placeholder.Secret {
		t.Errorf("registry password = %q, want the token's, kept secret", got)
	}
	var ref string
	select {
	case ref = <-refs:
	case <-time.After(time.Minute):
		t.Fatal("ImageRef never resolved")
	}
	if !strings.Contains(ref, "/hipaa-app@sha256:") {
		t.Errorf("ImageRef = %q, want a digest reference", ref)
	}
}

func TestBadArgsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*RepositoryArgs){
		"RepositoryName":     func(a *RepositoryArgs) { a.RepositoryName = "Hipaa App" },
		"KmsKeyArn":          func(a *RepositoryArgs) { a.KmsKeyArn = nil },
		"AccountID":          func(a *RepositoryArgs) { a.AccountID = "12" },
		"PullAccounts[0]":    func(a *RepositoryArgs) { a.PullAccounts = []string{"*"} },
		"overlap":            func(a *RepositoryArgs) { a.BuildPrefixes = []string{"release"} },
		"ReleasePrefixes[0]": func(a *RepositoryArgs) { a.ReleasePrefixes = []string{"*"} },
		"BuildDays":          func(a *RepositoryArgs) { a.BuildDays = 400 },
		"UntaggedDays":       func(a *RepositoryArgs) { a.UntaggedDays = -1 },
		"Replica.Region":     func(a *RepositoryArgs) { a.Replica = &Replica{Region: "us-east-1"} },
		"Build.Context":      func(a *RepositoryArgs) { a.Build = &Build{TagPrefix: "v1"} },
		"Build.Context \"/nonexistent\" is not a directory": func(a *RepositoryArgs) { a.Build = &Build{Context: "/nonexistent", TagPrefix: "v1"} },
		"Build.TagPrefix": func(a *RepositoryArgs) { a.Build = &Build{Context: ".", TagPrefix: "-x"} },
	} {
		a := args()
		mutate(a)
		repository.Refused(t, a, want)
	}
	repository.Refused(t, nil, "args are required")
}

// buildContext is a build context of its own: a Dockerfile and a file of the application.
func buildContext(t *testing.T, dockerfile string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"Dockerfile": dockerfile, "app/main.txt": "v1\n", ".git/HEAD": "ref: refs/heads/main\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestABuildsTagIsItsContents: the same content gets the same tag, so a rebuild pushes nothing new;
// changed content, a changed mode, another platform or Dockerfile get a new one; Git's own files do not
// count.
func TestABuildsTagIsItsContents(t *testing.T) {
	t.Parallel()
	dir := buildContext(t, "FROM scratch\n")
	tag := func() string {
		t.Helper()
		got, err := ContentTag("release", dir, "", "linux/amd64")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := tag()
	if !regexp.MustCompile(`^release-[0-9a-f]{12}$`).MatchString(first) {
		t.Fatalf("tag %q, want release-<12 hex>", first)
	}
	if again := tag(); again != first {
		t.Errorf("the same content got %s, then %s", first, again)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := tag(); got != first {
		t.Errorf("a change under .git changed the tag to %s", got)
	}
	seen := map[string]string{first: "the first build"}
	for _, c := range []struct {
		what   string
		change func() error
	}{
		{"a changed file", func() error { return os.WriteFile(filepath.Join(dir, "app", "main.txt"), []byte("v2\n"), 0o644) }},
		{"a new file", func() error { return os.WriteFile(filepath.Join(dir, "app", "extra.txt"), nil, 0o644) }},
		{"a changed mode", func() error { return os.Chmod(filepath.Join(dir, "app", "extra.txt"), 0o755) }},
	} {
		if err := c.change(); err != nil {
			t.Fatal(err)
		}
		got := tag()
		if prev, dup := seen[got]; dup {
			t.Errorf("%s kept the tag of %s: %s", c.what, prev, got)
		}
		seen[got] = c.what
	}
	other, err := ContentTag("release", dir, "", "linux/arm64")
	if err != nil || other == tag() {
		t.Errorf("another platform got the same tag %s (%v)", other, err)
	}
	if _, err := ContentTag("release", filepath.Join(dir, "nope"), "", "linux/amd64"); err == nil {
		t.Error("a missing context gave a tag")
	}
}

// TestReleasesReplicateToTheProductionAccountAndBuildsDoNot: the source's one replication rule sends
// the release repository, by its name, to the production account in the same region; the builds live
// in a repository whose name the rule's prefix does not match.
func TestReleasesReplicateToTheProductionAccountAndBuildsDoNot(t *testing.T) {
	t.Parallel()
	a := args()
	a.ReplicateTo = []string{prod}
	a.BuildRepositoryName = "hipaa-build"
	rs := repository.MustRun(t, a)
	rc := offlinetest.One(t, rs, "aws:ecr/replicationConfiguration:ReplicationConfiguration")
	for path, want := range map[string]string{
		"replicationConfiguration.rules.0.destinations.0.region":          "us-east-1",
		"replicationConfiguration.rules.0.destinations.0.registryId":      prod,
		"replicationConfiguration.rules.0.repositoryFilters.0.filter":     "hipaa-app",
		"replicationConfiguration.rules.0.repositoryFilters.0.filterType": "PREFIX_MATCH",
	} {
		if got := rc.String(path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if rc.Value("replicationConfiguration.rules.1") != nil || rc.Value("replicationConfiguration.rules.0.destinations.1") != nil {
		t.Errorf("more than the one rule and destination: %v", rc.Value("replicationConfiguration"))
	}
	builds, ok := offlinetest.Named(rs, "aws:ecr/repository:Repository", "hipaa-unit-registry-builds")
	if !ok {
		t.Fatal("no builds repository")
	}
	filter := rc.String("replicationConfiguration.rules.0.repositoryFilters.0.filter")
	if name := builds.String("name"); strings.HasPrefix(name, filter) {
		t.Errorf("the builds repository %s matches the replication prefix %s", name, filter)
	}
	if builds.Value("imageTagMutability") != "IMMUTABLE" || builds.String("encryptionConfigurations.0.kmsKey") != key {
		t.Errorf("the builds repository is not immutable and encrypted with the key: %v", builds.Inputs)
	}
	lifecycle, _ := offlinetest.Named(rs, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "hipaa-unit-registry-builds")
	if p := lifecycle.String("policy"); !strings.Contains(p, `"tagPrefixList":["build-"]`) || strings.Contains(p, "release-") {
		t.Errorf("the builds' lifecycle: %s", p)
	}
	if n := len(offlinetest.Of(rs, "aws:ecr/registryPolicy:RegistryPolicy")); n != 0 {
		t.Errorf("the source has %d registry policies; replication needs one on the destination only", n)
	}
}

// TestTheProductionRegistryAdmitsOnlyReplicationOfItsReleases: the destination's registry policy lets the
// source account replicate into the release repository, which exists with the destination's own key,
// and create nothing.
func TestTheProductionRegistryAdmitsOnlyReplicationOfItsReleases(t *testing.T) {
	t.Parallel()
	a := args()
	a.AccountID, a.PullAccounts, a.AdmitReplicationFrom = prod, nil, []string{account}
	rs := repository.MustRun(t, a)
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS []string }
			Action    []string
			Resource  []string
		}
	}
	policy := offlinetest.One(t, rs, "aws:ecr/registryPolicy:RegistryPolicy")
	if err := json.Unmarshal([]byte(policy.String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("statements %+v, want one", doc.Statement)
	}
	s := doc.Statement[0]
	if s.Effect != "Allow" || strings.Join(s.Principal.AWS, ",") != "arn:aws:iam::"+account+":root" ||
		strings.Join(s.Action, ",") != "ecr:ReplicateImage" ||
		strings.Join(s.Resource, ",") != "arn:aws:ecr:us-east-1:"+prod+":repository/hipaa-app" {
		t.Errorf("statement %+v, want ecr:ReplicateImage on repository/hipaa-app for %s alone", s, account)
	}
	repo, _ := offlinetest.Named(rs, "aws:ecr/repository:Repository", "hipaa-unit-registry")
	if !slices.Contains(policy.Dependencies, repo.URN) {
		t.Error("the policy does not wait for the repository replication writes into")
	}
	if n := len(offlinetest.Of(rs, "aws:ecr/replicationConfiguration:ReplicationConfiguration")); n != 0 {
		t.Errorf("the destination replicates onward (%d configurations)", n)
	}
}

func TestReplicationArgsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*RepositoryArgs){
		"ReplicateTo[0] \"1\" is not":              func(a *RepositoryArgs) { a.ReplicateTo = []string{"1"} },
		"ReplicateTo[0] is the repository's own":   func(a *RepositoryArgs) { a.ReplicateTo = []string{account} },
		"AdmitReplicationFrom[0] is the":           func(a *RepositoryArgs) { a.AdmitReplicationFrom = []string{account} },
		"BuildRepositoryName \"hipaa-app-builds\"": func(a *RepositoryArgs) { a.BuildRepositoryName = "hipaa-app-builds" },
		"BuildRepositoryName \"Builds\"":           func(a *RepositoryArgs) { a.BuildRepositoryName = "Builds" },
	} {
		a := args()
		mutate(a)
		repository.Refused(t, a, want)
	}
}
