package hipaa

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// statement is one statement of an IAM, key, bucket or repository policy, with the fields that may be a
// string or a list normalised to lists.
type statement struct {
	Effect     string
	Principals []string // "*" for a wildcard; otherwise "AWS:arn", "Service:name", ...
	Actions    []string
	Resources  []string
	Conditions map[string]map[string]any
}

// statementsOf is parsePolicy of doc, a property of r, parsed once however many rules read it.
func statementsOf(c *engine.Check, r *engine.Resource, doc engine.V) ([]statement, bool) {
	type parsed struct {
		statements []statement
		ok         bool
	}
	p := engine.Memo(r, "policy:"+doc.Path(), func() parsed {
		return engine.Derive(c, "policy", doc.Str(), func(s string) parsed {
			st, ok := parsePolicy(s)
			return parsed{st, ok}
		})
	})
	return p.statements, p.ok
}

// parsePolicy reads a policy document; ok is false when doc is not one.
func parsePolicy(doc string) ([]statement, bool) {
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil || len(raw.Statement) == 0 {
		return nil, false
	}
	var list []map[string]any
	if err := json.Unmarshal(raw.Statement, &list); err != nil {
		var one map[string]any
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, false
		}
		list = []map[string]any{one}
	}
	out := make([]statement, 0, len(list))
	for _, s := range list {
		st := statement{Actions: strs(s["Action"]), Resources: strs(s["Resource"])}
		st.Effect, _ = s["Effect"].(string)
		switch p := s["Principal"].(type) {
		case string:
			st.Principals = []string{p}
		case map[string]any:
			for kind, v := range p {
				for _, e := range strs(v) {
					if e == "*" {
						st.Principals = append(st.Principals, "*")
					} else {
						st.Principals = append(st.Principals, kind+":"+e)
					}
				}
			}
		}
		if c, ok := s["Condition"].(map[string]any); ok {
			st.Conditions = map[string]map[string]any{}
			for op, kv := range c {
				if m, ok := kv.(map[string]any); ok {
					st.Conditions[op] = m
				}
			}
		}
		out = append(out, st)
	}
	return out, true
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (s statement) allows() bool { return strings.EqualFold(s.Effect, "Allow") }

func (s statement) anyPrincipal() bool {
	for _, p := range s.Principals {
		if p == "*" {
			return true
		}
	}
	return false
}

// condition returns a condition's value for a key under an operator, case-insensitively on the key.
func (s statement) condition(op, key string) (string, bool) {
	for k, v := range s.Conditions[op] {
		if strings.EqualFold(k, key) {
			switch v := v.(type) {
			case string:
				return v, true
			case bool:
				if v {
					return "true", true
				}
				return "false", true
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64), true
			}
			if list := strs(v); len(list) == 1 {
				return list[0], true
			}
		}
	}
	return "", false
}

// matchesAction reports whether a statement's actions cover action (wildcards as IAM reads them).
func (s statement) matchesAction(action string) bool {
	for _, a := range s.Actions {
		if wildcardMatch(strings.ToLower(a), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM-style patterns where * is any run and ? one character.
func wildcardMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(pattern[1:], s[1:])
	}
	return s != "" && pattern[0] == s[0] && wildcardMatch(pattern[1:], s[1:])
}

// failWildcardAllow reports each statement of r's resource policy that allows the principal "*".
func failWildcardAllow(c *engine.Check, r *engine.Resource, policy engine.V, who string) {
	if policy.Unknown() {
		c.Unknown(policy.Path())
		return
	}
	statements, _ := statementsOf(c, r, policy)
	for i, st := range statements {
		if st.allows() && st.anyPrincipal() {
			c.Fail(policy.Path(), "policy statement %d allows the principal \"*\"; name the %s", i, who)
		}
	}
}
