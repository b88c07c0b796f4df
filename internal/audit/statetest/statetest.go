// Package statetest makes the deployed states the audit's tests read. No provider plugin can be had on
// the machines the tests run on, so nothing is deployed: the program's run under the SDK's mocks
// (internal/offline) is written as a Pulumi deployment, its outputs the mocks' answers, and the real
// Pulumi CLI imports it into a stack of a local file:// backend (`pulumi stack import`, which checks it
// and encrypts its secrets with the stack's passphrase) and exports it again (`pulumi stack export`),
// so that what the audit reads is the CLI's own export.
package statetest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/offline"
)

// Plugins are the provider plugin versions the program's SDKs ask for, by package.
var Plugins = map[string]string{"aws": "6.83.4", "random": "4.18.3", "tls": "5.2.0", "docker": "4.10.0"}

// Resource is one resource of a deployment (apitype.ResourceV3 in JSON form), for a test to change
// before the import: the drift a test makes.
type Resource = map[string]any

// Deployment writes what the program registered for stack of project as the resources of a
// deployment: the root stack, a default provider per package, and every component and custom
// resource in the order registered, each custom one with the mocks' ID, inputs and outputs, secrets
// as Pulumi's secret values in plaintext (the import encrypts them).
func Deployment(rs []offline.Resource, stack, project, region string) []Resource {
	urn := func(typ tokens.Type, name string) string {
		return string(resource.NewURN(tokens.QName(stack), tokens.PackageName(project), "", typ, name))
	}
	root := urn(resource.RootStackType, project+"-"+stack)
	out := []Resource{{"urn": root, "custom": false, "type": string(resource.RootStackType), "outputs": map[string]any{}}}
	providers := map[string]string{}
	provider := func(typ string) string {
		pkg, _, _ := strings.Cut(typ, ":")
		if ref, ok := providers[pkg]; ok {
			return ref
		}
		version := Plugins[pkg]
		urn := urn(tokens.Type("pulumi:providers:"+pkg), "default_"+strings.ReplaceAll(version, ".", "_"))
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(providers)+1)
		inputs := map[string]any{"version": version}
		if pkg == "aws" {
			inputs["region"] = region
		}
		out = append(out, Resource{"urn": urn, "custom": true, "id": id, "type": "pulumi:providers:" + pkg, "inputs": inputs, "outputs": inputs})
		providers[pkg] = urn + "::" + id
		return providers[pkg]
	}
	for _, r := range ordered(rs) {
		if r.Type == string(resource.RootStackType) {
			continue
		}
		res := Resource{"urn": r.URN, "custom": r.Custom, "type": r.Type}
		if r.Parent != "" {
			res["parent"] = r.Parent
		}
		if r.Custom {
			if !strings.HasPrefix(r.Type, "pulumi:providers:") {
				res["provider"] = provider(r.Type)
			}
			res["id"] = r.ID
			res["inputs"] = props(r.Inputs)
			res["outputs"] = props(r.Outputs)
		} else {
			res["outputs"] = map[string]any{}
		}
		if r.Parent == "" {
			res["parent"] = root
		}
		if len(r.Dependencies) > 0 {
			res["dependencies"] = r.Dependencies
		}
		if len(r.PropertyDependencies) > 0 {
			res["propertyDependencies"] = r.PropertyDependencies
		}
		for key, on := range map[string]bool{"protect": r.Options.Protect, "retainOnDelete": r.Options.RetainOnDelete, "deleteBeforeReplace": r.Options.DeleteBeforeReplace} {
			if on {
				res[key] = true
			}
		}
		if len(r.Options.IgnoreChanges) > 0 {
			res["ignoreChanges"] = r.Options.IgnoreChanges
		}
		out = append(out, res)
	}
	return out
}

// ordered is rs in an order a state may hold them: each resource after its parent and what it depends
// on, as the CLI's import checks; otherwise in the order registered. The mocks record a resource when
// it is registered, which for a component may be after its children were.
func ordered(rs []offline.Resource) []offline.Resource {
	byURN := make(map[string]int, len(rs))
	for i, r := range rs {
		byURN[r.URN] = i
	}
	out := make([]offline.Resource, 0, len(rs))
	placed := make([]bool, len(rs))
	var place func(i int)
	place = func(i int) {
		if placed[i] {
			return
		}
		placed[i] = true
		r := rs[i]
		for _, u := range append([]string{r.Parent}, r.Dependencies...) {
			if j, ok := byURN[u]; ok {
				place(j)
			}
		}
		out = append(out, r)
	}
	for i := range rs {
		place(i)
	}
	return out
}

// props is a property map in a deployment's JSON form.
func props(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if p, ok := value(v); ok {
			out[string(k)] = p
		}
	}
	return out
}

func value(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsNull(), v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		return nil, false
	case v.IsOutput():
		return value(v.OutputValue().Element)
	case v.IsSecret():
		inner, ok := value(v.SecretValue().Element)
		if !ok {
			return nil, false
		}
		b, err := json.Marshal(inner)
		if err != nil {
			panic(err)
		}
		return map[string]any{sig.Key: sig.Secret, "plaintext": string(b)}, true
	case v.IsObject():
		return props(v.ObjectValue()), true
	case v.IsArray():
		arr := []any{}
		for _, e := range v.ArrayValue() {
			if p, ok := value(e); ok {
				arr = append(arr, p)
			}
		}
		return arr, true
	}
	return v.V, true
}

// Export imports resources as stack's deployment through the CLI of ws, creating the stack where it
// is not, and returns what `pulumi stack export` then prints (audit.Export).
func Export(t testing.TB, ws auto.Workspace, stack string, resources []Resource) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ws.SelectStack(ctx, stack); err != nil {
		if err := ws.CreateStack(ctx, stack); err != nil {
			t.Fatalf("creating stack %s: %v", stack, err)
		}
	}
	// The manifest's magic is the SHA-256 of its version (pkg/resource/deploy/manifest.go, NewMagic),
	// which the import checks.
	const version = "v3.274.1"
	// The import keeps the deployment's secrets manager, which must be the stack's own: the passphrase
	// manager with the salt its stack settings hold.
	settings, err := ws.StackSettings(ctx, stack)
	if err != nil || settings.EncryptionSalt == "" {
		t.Fatalf("stack %s has no passphrase salt in its settings: %v", stack, err)
	}
	deployment, err := json.Marshal(map[string]any{
		"secrets_providers": map[string]any{"type": "passphrase", "state": map[string]any{"salt": settings.EncryptionSalt}},
		"manifest":          map[string]any{"time": time.Now().UTC().Format(time.RFC3339), "magic": fmt.Sprintf("%x", sha256.Sum256([]byte(version))), "version": version},
		"resources":         resources,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.ImportStack(ctx, stack, apitype.UntypedDeployment{Version: 3, Deployment: deployment}); err != nil {
		t.Fatalf("pulumi stack import of %s: %v", stack, err)
	}
	exported, err := audit.Export(ctx, ws, stack)
	if err != nil {
		t.Fatal(err)
	}
	return exported
}

// Find is the resource of resources whose URN ends with suffix; the test fails without one.
func Find(t testing.TB, resources []Resource, suffix string) Resource {
	t.Helper()
	for _, r := range resources {
		if strings.HasSuffix(r["urn"].(string), suffix) {
			return r
		}
	}
	t.Fatalf("no resource ends with %s", suffix)
	return nil
}
