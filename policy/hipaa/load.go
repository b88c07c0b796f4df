package hipaa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Placeholders the preview JSON uses for values it does not print.
const (
	secretPlaceholder  = "[secret]"
	unknownPlaceholder = "[unknown]"
)

// FromPropertyMap makes a Resource from the engine's representation of its properties.
func FromPropertyMap(urn, typ, name, parent string, props resource.PropertyMap, deps []string, pdeps map[string][]string) *Resource {
	return &Resource{URN: urn, Type: typ, Name: name, Parent: parent, Props: resource.FromResourcePropertyMap(props),
		Dependencies: deps, PropertyDependencies: pdeps}
}

// ReadPreviewJSON reads the array `platformctl preview --json` prints. A malformed file is an error
// saying where: the byte offset, line and column of a syntax error, or the index of a resource without
// a urn or type.
func ReadPreviewJSON(r io.Reader) ([]*Resource, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var raw []offline.JSON
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := position(data, syn.Offset)
			return nil, fmt.Errorf("malformed JSON at line %d, column %d: %v", line, col, syn)
		case errors.As(err, &typ):
			line, col := position(data, typ.Offset)
			if typ.Field == "" {
				return nil, fmt.Errorf("unexpected JSON at line %d, column %d: the document is a JSON %s; want the array printed by platformctl preview --json", line, col, typ.Value)
			}
			return nil, fmt.Errorf("unexpected JSON at line %d, column %d: %s is a JSON %s, want a %s", line, col, typ.Field, typ.Value, typ.Type.Kind())
		}
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	out := make([]*Resource, 0, len(raw))
	for i, pr := range raw {
		if pr.URN == "" || pr.Type == "" {
			return nil, fmt.Errorf("resource %d has no urn or type; want the array printed by platformctl preview --json", i)
		}
		out = append(out, &Resource{URN: pr.URN, Type: pr.Type, Name: pr.Name, Parent: pr.Parent,
			Props: plainMap(pr.Inputs), Dependencies: pr.Dependencies, PropertyDependencies: pr.PropertyDependencies})
	}
	return out, nil
}

func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func plainMap(m map[string]any) property.Map {
	vals := make(map[string]property.Value, len(m))
	for k, v := range m {
		vals[k] = plainValue(v)
	}
	return property.NewMap(vals)
}

func plainValue(v any) property.Value {
	switch v := v.(type) {
	case nil:
		return property.New(property.Null)
	case bool:
		return property.New(v)
	case float64:
		return property.New(v)
	case string:
		switch v {
		case unknownPlaceholder:
			return property.New(property.Computed)
		case secretPlaceholder:
			return property.New(v).WithSecret(true)
		}
		return property.New(v)
	case []any:
		arr := make([]property.Value, len(v))
		for i, e := range v {
			arr[i] = plainValue(e)
		}
		return property.New(property.NewArray(arr))
	case map[string]any:
		return property.New(plainMap(v))
	}
	return property.New(fmt.Sprint(v))
}

// FromOffline converts what a program registered under mocks (see internal/offline) into the resources
// the rules see, components left out: the engine sends them too, but no rule looks at them.
func FromOffline(rs []offline.Resource) []*Resource {
	out := make([]*Resource, 0, len(rs))
	for _, r := range rs {
		if r.Custom {
			out = append(out, FromPropertyMap(r.URN, r.Type, r.Name, r.Parent, r.Inputs, r.Dependencies, r.PropertyDependencies))
		}
	}
	return out
}
