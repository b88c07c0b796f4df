package offline

import "strings"

// Of returns the resources of one type, in order.
func Of(rs []Resource, typ string) []Resource {
	var out []Resource
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the resource of a type and name, and whether there is one.
func Named(rs []Resource, typ, name string) (Resource, bool) {
	for _, r := range rs {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Value returns the plain value at a dotted path of the inputs ("versioningConfiguration.status"); a
// number in the path indexes an array ("rules.0.status"). It returns nil where the path leads nowhere.
func (r Resource) Value(path string) any {
	var v any = PlainMap(r.Inputs)
	for _, part := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[part]
		case []any:
			i := 0
			for _, c := range part {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(cur) {
				return nil
			}
			v = cur[i]
		default:
			return nil
		}
	}
	return v
}

// String returns the value at path as a string, or "" when it is not one.
func (r Resource) String(path string) string {
	s, _ := r.Value(path).(string)
	return s
}
