package audit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/report"
)

// maxShown bounds a value as a drift shows it; a user data script or a policy is shortened.
const maxShown = 160

// computeDrift compares a deployed state with the program's preview of the same stack: the resources
// only one holds, and for each both hold the inputs that differ. Only inputs are compared: they are what
// the program declares, and after `pulumi refresh` what the cloud has of them (see merge).
//
// What a preview under mocks cannot know is not compared by value: a property computed from other
// resources (the preview's propertyDependencies name them) holds the mocks' IDs and ARNs, so it is
// compared by the resources it is computed from; a property unknown in the preview, and a secret, whose
// state holds only its ciphertext, are counted and not compared. The mocks' account ID is read as the
// state's. A property the state holds and the preview does not is drift unless it is empty or the
// provider filled it in as a default: the bridge lists those in the inputs' "__defaults"
// (pulumi-terraform-bridge, pkg/tfbridge/schema.go, defaultsKey), and "tagsAll", which the provider
// computes from the tags and its default tags; a provider's "version" is the engine's.
func computeDrift(s *State, preview []*engine.Resource, against string) *report.Drift {
	d := &report.Drift{Against: against, Pending: s.Pending, PendingDeletion: s.Skipped}
	account := deployedAccount(s.Resources)
	deployed := make(map[string]*engine.Resource, len(s.Resources))
	for _, r := range s.Resources {
		deployed[r.URN] = r
	}
	declared := make(map[string]bool, len(preview))
	for _, p := range preview {
		declared[p.URN] = true
		r, ok := deployed[p.URN]
		if !ok {
			d.NotDeployed = append(d.NotDeployed, report.DriftResource{URN: p.URN, Type: p.Type})
			continue
		}
		d.Compared++
		c := &comparison{drift: d, account: account}
		c.resource(r, s.Inputs[r.URN], p)
		if len(c.found) > 0 {
			d.Changed = append(d.Changed, report.ResourceDrift{URN: r.URN, Type: r.Type, Properties: c.found})
		}
	}
	for _, r := range s.Resources {
		if !declared[r.URN] && !defaultProvider(r) {
			d.DeployedOnly = append(d.DeployedOnly, report.DriftResource{URN: r.URN, Type: r.Type})
		}
	}
	return d
}

// comparison compares one resource's inputs.
type comparison struct {
	drift   *report.Drift
	account string
	found   []report.PropertyDrift
}

func (c *comparison) resource(r *engine.Resource, inputs property.Map, p *engine.Resource) {
	defaults := map[string]bool{}
	if list := inputs.Get("__defaults"); list.IsArray() {
		for _, k := range list.AsArray().All {
			if k.IsString() {
				defaults[k.AsString()] = true
			}
		}
	}
	for _, k := range unionKeys(inputs, p.Props) {
		if strings.HasPrefix(k, "__") || k == "tagsAll" {
			continue
		}
		if k == "version" && strings.HasPrefix(p.Type, "pulumi:providers:") {
			continue // the engine's, beside "__internal" (pkg/resource/deploy/providers, SetProviderVersion)
		}
		dv, inDeployed := inputs.GetOk(k)
		pv, inPreview := p.Props.GetOk(k)
		switch {
		case inPreview && len(p.PropertyDependencies[k]) > 0:
			c.drift.ByDependency++
			want, got := sortedSet(p.PropertyDependencies[k]), sortedSet(r.PropertyDependencies[k])
			if !slices.Equal(want, got) {
				c.found = append(c.found, report.PropertyDrift{Path: k, ByDependency: true,
					Deployed: strings.Join(got, ", "), Preview: strings.Join(want, ", ")})
			}
		case !inPreview && (defaults[k] || empty(dv)):
		case inDeployed && !inPreview:
			c.add(k, dv, property.Value{}, false, true)
		default:
			c.value(k, dv, pv, inDeployed)
		}
	}
}

// value compares a property both may hold, descending into objects and into arrays of one length.
func (c *comparison) value(path string, dv, pv property.Value, inDeployed bool) {
	switch {
	case pv.IsComputed() || dv.IsComputed():
		c.drift.Unknown++
	case pv.Secret() || dv.Secret():
		c.drift.Secret++
	case !inDeployed:
		if !empty(pv) {
			c.add(path, property.Value{}, pv, true, false)
		}
	case dv.IsMap() && pv.IsMap():
		dm, pm := dv.AsMap(), pv.AsMap()
		for _, k := range unionKeys(dm, pm) {
			d, inD := dm.GetOk(k)
			p, inP := pm.GetOk(k)
			switch {
			case !inP && !empty(d):
				c.add(path+"."+k, d, property.Value{}, false, true)
			case inP:
				c.value(path+"."+k, d, p, inD)
			}
		}
	case dv.IsArray() && pv.IsArray() && dv.AsArray().Len() == pv.AsArray().Len():
		da, pa := dv.AsArray(), pv.AsArray()
		for i := range da.Len() {
			c.value(fmt.Sprintf("%s[%d]", path, i), da.Get(i), pa.Get(i), true)
		}
	default:
		if !c.equal(dv, pv) {
			c.add(path, dv, pv, true, true)
		}
	}
}

// equal compares two plain values, the preview's mocked account ID read as the state's.
func (c *comparison) equal(dv, pv property.Value) bool {
	if dv.IsString() && pv.IsString() && c.account != "" {
		return dv.AsString() == strings.ReplaceAll(pv.AsString(), offline.AccountID, c.account)
	}
	if empty(dv) && empty(pv) {
		return true
	}
	return dv.Equals(pv)
}

func (c *comparison) add(path string, dv, pv property.Value, hasPreview, hasDeployed bool) {
	f := report.PropertyDrift{Path: path}
	if hasDeployed {
		f.Deployed = shown(dv)
	}
	if hasPreview {
		f.Preview = shown(pv)
	}
	c.found = append(c.found, f)
}

// empty is a value that says nothing: null, false, zero, "", [] or {}.
func empty(v property.Value) bool {
	switch {
	case v.IsNull():
		return true
	case v.IsBool():
		return !v.AsBool()
	case v.IsNumber():
		return v.AsNumber() == 0
	case v.IsString():
		return v.AsString() == ""
	case v.IsArray():
		return v.AsArray().Len() == 0
	case v.IsMap():
		return v.AsMap().Len() == 0
	}
	return false
}

// shown renders a value as JSON, shortened; a secret as [secret].
func shown(v property.Value) string {
	b, err := json.Marshal(plain(v))
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(b)
	if len(s) > maxShown {
		s = s[:maxShown] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return s
}

// plain converts a property value to a plain one for rendering, secrets and unknowns as placeholders.
func plain(v property.Value) any {
	switch {
	case v.Secret():
		return "[secret]"
	case v.IsComputed():
		return "[unknown]"
	case v.IsMap():
		out := map[string]any{}
		for k, e := range v.AsMap().All {
			out[k] = plain(e)
		}
		return out
	case v.IsArray():
		var out []any
		for _, e := range v.AsArray().All {
			out = append(out, plain(e))
		}
		return out
	case v.IsString():
		return v.AsString()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsBool():
		return v.AsBool()
	}
	return nil
}

// accountInArn finds the account of an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:...
var accountInArn = regexp.MustCompile(`^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}):`)

// deployedAccount is the account the state's resources are in, from the first ARN of one; empty when
// none has one.
func deployedAccount(rs []*engine.Resource) string {
	for _, r := range rs {
		if m := accountInArn.FindStringSubmatch(r.Get("arn").Str()); m != nil {
			return m[1]
		}
	}
	return ""
}

func sortedSet(urns []string) []string {
	out := slices.Clone(urns)
	slices.Sort(out)
	return slices.Compact(out)
}

// unionKeys are the keys of a and b, each once, sorted.
func unionKeys(a, b property.Map) []string {
	keys := make([]string, 0, a.Len()+b.Len())
	for _, m := range []property.Map{a, b} {
		for k := range m.All {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// defaultProvider is a provider the engine made for the resources that name none (its name is
// default, or default_VERSION): not the program's, so no preview declares it.
func defaultProvider(r *engine.Resource) bool {
	return strings.HasPrefix(r.Type, "pulumi:providers:") && (r.Name == "default" || strings.HasPrefix(r.Name, "default_"))
}
