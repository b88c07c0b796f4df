package hipaa

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/policy/engine"
)

var configHipaaConformancePack = engine.Rule{
	ID:          "config-hipaa-conformance-pack",
	Description: "The account baseline's conformance packs together run every rule of AWS Config's HIPAA Security conformance pack",
	Citations:   []string{"164.308(a)(8)", "164.308(a)(1)(ii)(D)"},
	Severity:    engine.High,
	Fix: "In the baseline stack, declare an aws.cfg.ConformancePack whose template holds AWS's \"Operational Best Practices " +
		"for HIPAA Security\" rules (baseline.AccountRules), and each network's pack of the rules about its own internet paths.",
	Types: []string{tConformancePack},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		packs := s.OfType(tConformancePack)
		if len(packs) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no AWS Config conformance pack, so no auditor's HIPAA rule runs on the account")
			return
		}
		have := map[string]bool{}
		for _, p := range packs {
			body, prop, ok := templateOf(s, p)
			if !ok {
				c.UnknownOn(p.URN, prop)
				return
			}
			names, err := ruleNames(body)
			if err != nil {
				c.FailOn(p.URN, prop, "the template does not read as a conformance pack: %v", err)
				continue
			}
			for _, n := range names {
				have[n] = true
			}
		}
		var missing []string
		for _, r := range conformance.HIPAASecurity() {
			if !have[r.Name] {
				missing = append(missing, r.Name)
			}
		}
		if len(missing) > 0 {
			shown := missing[:min(len(missing), 5)]
			more := ""
			if len(missing) > len(shown) {
				more = fmt.Sprintf(" and %d more", len(missing)-len(shown))
			}
			c.FailOn(packs[0].URN, "", "the conformance packs lack %d of AWS's HIPAA rules: %s%s", len(missing), strings.Join(shown, ", "), more)
		}
	},
}

// templateOf is a conformance pack's template: its body, or the content of the object of this stack that
// its templateS3Uri names. ok is false, with the property, when it is not known until deployment.
func templateOf(s *engine.Stack, p *engine.Resource) (body, prop string, ok bool) {
	uri := p.Get("templateS3Uri")
	if !uri.Present() {
		b := p.Get("templateBody")
		return b.Str(), "templateBody", !b.Unknown()
	}
	if uri.Unknown() {
		return "", "templateS3Uri", false
	}
	for _, o := range s.OfType(tBucketObject) {
		if key := o.Get("key").Str(); key != "" && strings.HasSuffix(uri.Str(), "/"+key) {
			content := o.Get("content")
			return content.Str(), "templateS3Uri", !content.Unknown()
		}
	}
	return "", "templateS3Uri", false
}

// ruleNames are the ConfigRuleNames of a conformance pack template written as JSON.
func ruleNames(body string) ([]string, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct{ ConfigRuleName string }
		}
	}
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		return nil, err
	}
	var names []string
	for _, r := range tpl.Resources {
		if r.Type == "AWS::Config::ConfigRule" {
			names = append(names, r.Properties.ConfigRuleName)
		}
	}
	slices.Sort(names)
	return names, nil
}
