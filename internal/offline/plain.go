package offline

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hipaa-platform/platform/internal/placeholder"
)

// JSON is one resource in the preview's JSON contract:
// {urn, type, name, parent, custom, inputs, options, dependencies, propertyDependencies}.
type JSON struct {
	URN                  string              `json:"urn"`
	Type                 string              `json:"type"`
	Name                 string              `json:"name"`
	Parent               string              `json:"parent"`
	Custom               bool                `json:"custom"`
	Inputs               map[string]any      `json:"inputs"`
	Dependencies         []string            `json:"dependencies"`
	PropertyDependencies map[string][]string `json:"propertyDependencies"`
	Options              ResourceOptions     `json:"options"`
}

// JSON returns the resource in the preview's JSON form, secrets masked.
func (r Resource) JSON() JSON {
	deps := r.Dependencies
	if deps == nil {
		deps = []string{}
	}
	pdeps := r.PropertyDependencies
	if pdeps == nil {
		pdeps = map[string][]string{}
	}
	opts := r.Options
	for _, list := range []*[]string{&opts.IgnoreChanges, &opts.ReplaceOnChanges, &opts.DependsOn} {
		if *list == nil {
			*list = []string{}
		}
	}
	return JSON{
		URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Custom: r.Custom,
		Inputs:               PlainMap(r.Inputs),
		Dependencies:         deps,
		PropertyDependencies: pdeps,
		Options:              opts,
	}
}

// PlainMap converts a property map to plain JSON values, with secrets and unknowns shown as their
// placeholders.
func PlainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if p, keep := Plain(v); keep {
			out[string(k)] = p
		}
	}
	return out
}

// Plain converts one property value to a plain JSON value; keep is false for a null or absent value.
func Plain(v resource.PropertyValue) (out any, keep bool) {
	switch {
	case v.IsSecret():
		return placeholder.Secret, true
	case v.IsComputed():
		return placeholder.Unknown, true
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return placeholder.Secret, true
		}
		if !o.Known {
			return placeholder.Unknown, true
		}
		return Plain(o.Element)
	case v.IsNull():
		return nil, false
	case v.IsBool():
		return v.BoolValue(), true
	case v.IsNumber():
		return v.NumberValue(), true
	case v.IsString():
		return v.StringValue(), true
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			p, ok := Plain(e)
			if !ok {
				p = nil
			}
			out = append(out, p)
		}
		return out, true
	case v.IsObject():
		return PlainMap(v.ObjectValue()), true
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN), true
	case v.IsAsset():
		return "[asset]", true
	case v.IsArchive():
		return "[archive]", true
	}
	return nil, false
}
