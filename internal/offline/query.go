package offline

import "strings"

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
