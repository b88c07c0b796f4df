package nagios

import (
	"bufio"
	"strings"
)

// Object is one `define KIND { ... }` block of a Nagios object file.
type Object struct {
	Kind   string
	Fields [][2]string
}

// Get returns a field's value, or "".
func (o Object) Get(key string) string {
	for _, f := range o.Fields {
		if f[0] == key {
			return f[1]
		}
	}
	return ""
}

// Parse reads the object definitions of a Nagios object file, for the tests and for operators' tools
// that read the generated configuration back. Comments and blank lines are skipped.
func Parse(text string) []Object {
	var objects []Object
	var cur *Object
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "define ") && strings.HasSuffix(line, "{"):
			objects = append(objects, Object{Kind: strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "define "), "{"))})
			cur = &objects[len(objects)-1]
		case line == "}":
			cur = nil
		case cur != nil:
			key, value, _ := strings.Cut(line, " ")
			cur.Fields = append(cur.Fields, [2]string{key, strings.TrimSpace(value)})
		}
	}
	return objects
}
