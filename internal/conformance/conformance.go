// Package conformance is what AWS's own scanners check an account for, as data: the managed rules of AWS
// Config's conformance pack "Operational Best Practices for HIPAA Security", each with its parameters'
// defaults, the template of a conformance pack written from them with the platform's own parameters, and
// the trail's metric filters that Security Hub's CloudWatch controls look for. The baseline deploys them;
// the policy pack checks for them before deployment and names these rules for the controls it checks.
package conformance

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

//go:embed hipaa-security.tsv
var hipaaSecurity string

// Rule is one AWS Config managed rule of a conformance pack.
type Rule struct {
	// Name is the rule's name, the one AWS Config reports (ConfigRuleName).
	Name string
	// Identifier is the managed rule's source identifier, such as S3_DEFAULT_ENCRYPTION_KMS.
	Identifier string
	// ResourceTypes are the types the rule is scoped to; empty for the rule's own (or a periodic rule).
	ResourceTypes []string
	// Parameters are the rule's input parameters, with AWS's defaults.
	Parameters map[string]string
	// Description is set for a process check, which has no evaluation of its own.
	Description string
}

// HIPAASecurity returns the rules of AWS's HIPAA conformance pack, in its order. Each call returns a copy.
func HIPAASecurity() []Rule {
	rules := parsed()
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r
		out[i].ResourceTypes = slices.Clone(r.ResourceTypes)
		out[i].Parameters = maps.Clone(r.Parameters)
	}
	return out
}

// Known reports whether name is a rule of AWS's HIPAA conformance pack.
func Known(name string) bool {
	_, ok := index()[name]
	return ok
}

var parsed = sync.OnceValue(func() []Rule {
	rules, err := parse(hipaaSecurity)
	if err != nil {
		panic(err) // the embedded table is tested
	}
	return rules
})

var index = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for i, r := range parsed() {
		m[r.Name] = i
	}
	return m
})

// parse reads the table: one rule per line, tab-separated name, identifier, resource types, parameters
// and an optional description; "-" for an empty column; # starts a comment line.
func parse(table string) ([]Rule, error) {
	var rules []Rule
	seen := map[string]bool{}
	for n, line := range strings.Split(table, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 4 || len(cols) > 5 {
			return nil, fmt.Errorf("line %d: %d columns, want 4 or 5", n+1, len(cols))
		}
		r := Rule{Name: cols[0], Identifier: cols[1], Parameters: map[string]string{}}
		if seen[r.Name] {
			return nil, fmt.Errorf("line %d: rule %s twice", n+1, r.Name)
		}
		seen[r.Name] = true
		if cols[2] != "-" {
			r.ResourceTypes = strings.Split(cols[2], ",")
		}
		if cols[3] != "-" {
			for _, kv := range strings.Split(cols[3], ";") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return nil, fmt.Errorf("line %d: parameter %q is not name=value", n+1, kv)
				}
				r.Parameters[k] = v
			}
		}
		if len(cols) == 5 {
			r.Description = cols[4]
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Scope limits where a pack's rules evaluate.
type Scope struct {
	// TagKey and TagValue limit every rule to the resources with this tag; empty for the rules' own
	// scope.
	TagKey, TagValue string
}

// Template writes a conformance pack template of rules: each one a managed rule with its own resource
// types and its parameters, in the rules' order. It refuses a rule without a name or identifier, and a
// rule named twice: AWS Config would reject the pack when it deploys.
func Template(rules []Rule, scope Scope) (string, error) {
	type source struct {
		Owner            string `json:"Owner"`
		SourceIdentifier string `json:"SourceIdentifier"`
	}
	type ruleScope struct {
		ComplianceResourceTypes []string `json:"ComplianceResourceTypes,omitempty"`
		TagKey                  string   `json:"TagKey,omitempty"`
		TagValue                string   `json:"TagValue,omitempty"`
	}
	type properties struct {
		ConfigRuleName  string            `json:"ConfigRuleName"`
		Description     string            `json:"Description,omitempty"`
		InputParameters map[string]string `json:"InputParameters,omitempty"`
		Scope           *ruleScope        `json:"Scope,omitempty"`
		Source          source            `json:"Source"`
	}
	type resource struct {
		Type       string     `json:"Type"`
		Properties properties `json:"Properties"`
	}
	if (scope.TagKey == "") != (scope.TagValue == "") {
		return "", fmt.Errorf("scope: TagKey %q and TagValue %q: want both or neither", scope.TagKey, scope.TagValue)
	}
	resources := map[string]resource{}
	for i, r := range rules {
		if r.Name == "" || r.Identifier == "" {
			return "", fmt.Errorf("rules[%d]: Name %q and Identifier %q are both required", i, r.Name, r.Identifier)
		}
		id := logicalID(r.Name)
		if _, dup := resources[id]; dup {
			return "", fmt.Errorf("rules[%d]: %s is in the pack twice", i, r.Name)
		}
		p := properties{
			ConfigRuleName: r.Name,
			Description:    r.Description,
			Source:         source{Owner: "AWS", SourceIdentifier: r.Identifier},
		}
		// An empty value is left out, as AWS's template leaves it out with Fn::If and AWS::NoValue: the rule
		// then applies its own default.
		p.InputParameters = nil
		for k, v := range r.Parameters {
			if v != "" {
				if p.InputParameters == nil {
					p.InputParameters = map[string]string{}
				}
				p.InputParameters[k] = v
			}
		}
		// A rule's scope is either its resource types or a tag (AWS Config's Scope: "one or more resource
		// types, a combination of one resource type and one resource ID, or a combination of a tag key and
		// value"), so a tag scope replaces the types.
		switch {
		case scope.TagKey != "":
			p.Scope = &ruleScope{TagKey: scope.TagKey, TagValue: scope.TagValue}
		case len(r.ResourceTypes) > 0:
			p.Scope = &ruleScope{ComplianceResourceTypes: r.ResourceTypes}
		}
		resources[id] = resource{Type: "AWS::Config::ConfigRule", Properties: p}
	}
	// encoding/json writes map keys sorted, so the same rules always write the same template and a
	// preview shows no change.
	body, err := json.Marshal(map[string]any{"Resources": resources})
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// logicalID is a rule's CloudFormation logical ID: its name in upper camel case, letters and digits only.
func logicalID(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// optional are the parameters a rule takes that AWS's template leaves out, from each rule's page in AWS
// Config's list of managed rules (docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html).
var optional = map[string][]string{
	"vpc-sg-open-only-to-authorized-ports": {"authorizedTcpPorts", "authorizedUdpPorts"},
	"no-unrestricted-route-to-igw":         {"routeTableIds"},
}

// Tailor returns rules with parameters set: set maps a rule's name to the parameters it changes. Every rule
// and parameter set must exist (in AWS's template, or among the rule's optional parameters), so that a
// misspelt parameter fails here instead of being ignored by AWS Config.
func Tailor(rules []Rule, set map[string]map[string]string) ([]Rule, error) {
	out := make([]Rule, len(rules))
	at := map[string]int{}
	for i, r := range rules {
		out[i] = r
		out[i].Parameters = maps.Clone(r.Parameters)
		at[r.Name] = i
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		i, ok := at[name]
		if !ok {
			return nil, fmt.Errorf("rule %s is not in the pack", name)
		}
		for _, k := range slices.Sorted(maps.Keys(set[name])) {
			known := append(slices.Sorted(maps.Keys(out[i].Parameters)), optional[name]...)
			if !slices.Contains(known, k) {
				return nil, fmt.Errorf("rule %s has no parameter %s; it takes %s", name, k, orNone(known))
			}
			out[i].Parameters[k] = set[name][k]
		}
	}
	return out, nil
}

// Without returns rules without those named; every name must be a rule of rules.
func Without(rules []Rule, names ...string) ([]Rule, error) {
	var out []Rule
	for _, r := range rules {
		if !slices.Contains(names, r.Name) {
			out = append(out, r)
		}
	}
	if len(out) != len(rules)-len(names) {
		return nil, fmt.Errorf("not every rule of %v is in the pack", names)
	}
	return out, nil
}

// Only returns the rules named, in the pack's order; every name must be a rule of rules.
func Only(rules []Rule, names ...string) ([]Rule, error) {
	var out []Rule
	for _, r := range rules {
		if slices.Contains(names, r.Name) {
			out = append(out, r)
		}
	}
	if len(out) != len(names) {
		return nil, fmt.Errorf("not every rule of %v is in the pack", names)
	}
	return out, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// PerStack are the rules whose parameters are one stack's own resources (its VPC, its public route
// table): each stack's network declares them for itself, scoped to its own resources by their Environment
// tag, and the account's pack leaves them out.
var PerStack = []string{"internet-gateway-authorized-vpc-only", "no-unrestricted-route-to-igw"}

// InlineLimit is the largest template AWS Config takes inline (PutConformancePack's TemplateBody, at most
// 51,200 bytes); a larger one must be read from S3 (TemplateS3Uri).
const InlineLimit = 51200
