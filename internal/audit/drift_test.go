package audit

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/report"
)

// TestDriftComparesWhatAMockedPreviewCanKnow: a value computed from another resource is compared by what
// it is computed from, the mocks' account ID is read as the state's, what the provider filled in is not
// drift, and unknown and secret values are counted, not compared.
func TestDriftComparesWhatAMockedPreviewCanKnow(t *testing.T) {
	t.Parallel()
	const key, role = "urn:pulumi:prod::hipaa::aws:kms/key:Key::k", "urn:pulumi:prod::hipaa::aws:iam/role:Role::r"
	props := func(m map[string]property.Value) property.Map { return property.NewMap(m) }
	deployedInputs := props(map[string]property.Value{
		"__defaults":  property.New([]property.Value{property.New("name")}),
		"name":        property.New("r-1a2b3c4"),
		"policy":      property.New(`{"Resource":"arn:aws:kms:us-east-1:210987654321:key/real-id"}`),
		"description": property.New("arn:aws:iam::210987654321:root"),
		"tagsAll":     property.New(map[string]property.Value{"Name": property.New("r")}),
		"pending":     property.New(false),
		"secret":      property.New("ciphertext").WithSecret(true),
		"extra":       property.New("set by hand"),
		"tags":        property.New(map[string]property.Value{"Name": property.New("r"), "Owner": property.New("ops")}),
	})
	deployed := &engine.Resource{URN: role, Type: "aws:iam/role:Role", Props: deployedInputs,
		PropertyDependencies: map[string][]string{"policy": {key}},
	}
	deployed.Props = merge(deployedInputs, props(map[string]property.Value{"arn": property.New("arn:aws:iam::210987654321:role/r-1a2b3c4")}))
	s := &State{Stack: "prod", Project: "hipaa", Resources: []*engine.Resource{deployed}, Inputs: map[string]property.Map{role: deployedInputs}}
	preview := []*engine.Resource{
		{URN: role, Type: "aws:iam/role:Role", PropertyDependencies: map[string][]string{"policy": {key}},
			Props: props(map[string]property.Value{
				"policy":      property.New(`{"Resource":"arn:aws:kms:us-east-1:123456789012:key/mock-id"}`),
				"description": property.New("arn:aws:iam::" + offline.AccountID + ":root"),
				"secret":      property.New("plain").WithSecret(true),
				"later":       property.New(property.Computed),
				"tags":        property.New(map[string]property.Value{"Name": property.New("r"), "Owner": property.New("platform")}),
			})},
		{URN: key, Type: "aws:kms/key:Key"},
	}
	d := computeDrift(s, preview, "the preview")
	if d.Compared != 1 || len(d.NotDeployed) != 1 || d.NotDeployed[0].URN != key || len(d.DeployedOnly) != 0 {
		t.Fatalf("compared %d, not deployed %v, deployed only %v", d.Compared, d.NotDeployed, d.DeployedOnly)
	}
	if d.ByDependency != 1 || d.Secret != 1 {
		t.Errorf("by dependency %d, secret %d; want 1 and 1", d.ByDependency, d.Secret)
	}
	// "later", unknown in the preview and not deployed, is counted, not compared.
	want := []report.PropertyDrift{{Path: "extra", Deployed: `"set by hand"`}, {Path: "tags.Owner", Deployed: `"ops"`, Preview: `"platform"`}}
	if len(d.Changed) != 1 {
		t.Fatalf("changed %+v", d.Changed)
	}
	if got := d.Changed[0].Properties; !slices.Equal(got, want) {
		t.Errorf("properties %+v\nwant %+v", d.Changed[0].Properties, want)
	}
	if d.Unknown != 1 {
		t.Errorf("unknown %d, want 1", d.Unknown)
	}
	// The same dependency, named from another resource, is drift.
	deployed.PropertyDependencies = map[string][]string{"policy": {"urn:pulumi:prod::hipaa::aws:kms/key:Key::other"}}
	if d := computeDrift(s, preview, "the preview"); len(d.Changed) != 1 || !slices.ContainsFunc(d.Changed[0].Properties, func(p report.PropertyDrift) bool {
		return p.Path == "policy" && p.ByDependency
	}) {
		t.Errorf("a property computed from another resource is not drift: %+v", d.Changed)
	}
}
