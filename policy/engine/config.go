package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// allRules is the configuration key that sets every rule's level at once.
const allRules = "all"

// Level is how a rule's violations are enforced.
type Level string

// Enforcement levels, as Pulumi names them.
const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
	Disabled  Level = "disabled"
)

// RuleConfig is one rule's configuration.
type RuleConfig struct {
	Level   Level
	Params  map[string]any
	Waivers []Waiver
}

// Config configures the pack: enforcement levels, rule parameters and waivers, by rule ID.
type Config struct {
	Rules map[string]RuleConfig
	// WaiverTermDays is the longest a waiver may run, from the day it is judged: a waiver is reviewed
	// at least this often. Zero means DefaultWaiverTermDays.
	WaiverTermDays int
	// Now is when waivers are judged; the zero value means the current time.
	Now time.Time
}

// DefaultWaiverTermDays is the longest a waiver may run unless the configuration says otherwise: a
// yearly review, as the Security Rule's evaluation standard (164.308(a)(8)) is commonly met.
const DefaultWaiverTermDays = 365

func (c Config) waiverTerm() int {
	if c.WaiverTermDays == 0 {
		return DefaultWaiverTermDays
	}
	return c.WaiverTermDays
}

func (c Config) now() time.Time {
	if c.Now.IsZero() {
		return time.Now().UTC()
	}
	return c.Now
}

// level returns a rule's enforcement level: configured, or mandatory.
func (c Config) level(id string) Level {
	if rc, ok := c.Rules[id]; ok && rc.Level != "" {
		return rc.Level
	}
	return Mandatory
}

// Params reads rule parameters from a Config, falling back to each rule's defaults.
type Params struct{ cfg Config }

func (p Params) value(r *Rule, name string) any {
	if v, ok := p.cfg.Rules[r.ID].Params[name]; ok {
		return v
	}
	for _, d := range r.Params {
		if d.Name == name {
			return d.Default
		}
	}
	panic(fmt.Sprintf("rule %s has no parameter %q", r.ID, name))
}

// Int returns an integer parameter.
func (p Params) Int(r *Rule, name string) int {
	switch v := p.value(r, name).(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	panic(fmt.Sprintf("rule %s parameter %q is not a number", r.ID, name))
}

// Ints returns an integer list parameter.
func (p Params) Ints(r *Rule, name string) []int {
	switch v := p.value(r, name).(type) {
	case []int:
		return v
	case []any:
		out := make([]int, 0, len(v))
		for _, e := range v {
			if f, ok := e.(float64); ok {
				out = append(out, int(f))
			}
		}
		return out
	}
	panic(fmt.Sprintf("rule %s parameter %q is not a list of numbers", r.ID, name))
}

// ParseConfig reads the pack's configuration in the form `pulumi preview --policy-pack-config` takes:
//
//	{"all": "advisory", "ec2-detailed-monitoring": "disabled",
//	 "log-retention": {"enforcementLevel": "mandatory", "minimumDays": 731,
//	                   "waivers": [{"resource": "*-legacy-*", "reason": "...", "expires": "2027-03-31"}]}}
//
// Every unknown rule, level, parameter or malformed waiver is an error naming it, and so is a
// configuration that leaves no rule enabled. "policy-waivers-valid": {"maximumTermDays": 365} sets the
// longest a waiver may run.
func (p *Pack) ParseConfig(data []byte) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("policy config is not a JSON object: %w", err)
	}
	cfg := Config{Rules: map[string]RuleConfig{}}
	var errs []error
	var err error
	allLevel := Level("")
	if v, ok := raw[allRules]; ok {
		var l string
		if err := json.Unmarshal(v, &l); err != nil || !validLevel(Level(l)) {
			errs = append(errs, fmt.Errorf(`policy config "all": got %s, want "mandatory", "advisory" or "disabled"`, v))
		}
		allLevel = Level(l)
	}
	for _, r := range p.rules {
		if allLevel != "" {
			cfg.Rules[r.ID] = RuleConfig{Level: allLevel}
		}
	}
	for _, id := range sortedKeys(raw) {
		if id == allRules {
			continue
		}
		if id == WaiverRuleID {
			if cfg.WaiverTermDays, err = waiverTerm(raw[id]); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		rule := p.Rule(id)
		if rule == nil {
			errs = append(errs, fmt.Errorf("policy config %q: no such rule; the rules are %s", id, strings.Join(p.IDs(), ", ")))
			continue
		}
		var props map[string]any
		var level string
		if err := json.Unmarshal(raw[id], &level); err == nil {
			props = map[string]any{"enforcementLevel": level}
		} else if err := json.Unmarshal(raw[id], &props); err != nil {
			errs = append(errs, fmt.Errorf("policy config %q: got %s, want a level or an object", id, raw[id]))
			continue
		}
		rc, err := ruleConfig(rule, props)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rc.Level == "" {
			rc.Level = allLevel
		}
		cfg.Rules[id] = rc
	}
	if len(errs) == 0 && !slices.ContainsFunc(p.rules, func(r *Rule) bool { return cfg.level(r.ID) != Disabled }) {
		errs = append(errs, errors.New("policy config disables every rule, so an evaluation would prove nothing; enable at least one"))
	}
	return cfg, errors.Join(errs...)
}

// waiverTerm reads the configuration of policy-waivers-valid: {"maximumTermDays": N}, 1 to 3653.
func waiverTerm(raw json.RawMessage) (int, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf(`policy config %q: got %s, want {"maximumTermDays": DAYS}`, WaiverRuleID, raw)
	}
	days := 0
	for _, k := range sortedKeys(v) {
		if k == "enforcementLevel" {
			if v[k] != string(Mandatory) {
				return 0, fmt.Errorf("policy config %q: enforcementLevel %v; it is always mandatory, since an invalid waiver exempts nothing", WaiverRuleID, v[k])
			}
			continue
		}
		f, ok := v[k].(float64)
		switch {
		case k != "maximumTermDays":
			return 0, fmt.Errorf("policy config %q: no parameter %q; the parameter is maximumTermDays (it is always mandatory)", WaiverRuleID, k)
		case !ok || f != float64(int(f)) || f < 1 || f > 3653:
			return 0, fmt.Errorf("policy config %q: maximumTermDays is %v; want a whole number of days from 1 to 3653", WaiverRuleID, v[k])
		}
		days = int(f)
	}
	return days, nil
}

// ruleConfig reads one rule's configuration object: enforcementLevel, the rule's parameters, waivers.
func ruleConfig(rule *Rule, props map[string]any) (RuleConfig, error) {
	rc := RuleConfig{Params: map[string]any{}}
	for _, k := range sortedKeys(props) {
		v := props[k]
		switch k {
		case "enforcementLevel":
			l, _ := v.(string)
			if !validLevel(Level(l)) {
				return rc, fmt.Errorf(`policy config %q: enforcementLevel %v; want "mandatory", "advisory" or "disabled"`, rule.ID, v)
			}
			rc.Level = Level(l)
		case "waivers":
			b, _ := json.Marshal(v)
			if err := json.Unmarshal(b, &rc.Waivers); err != nil {
				return rc, fmt.Errorf("policy config %q: waivers: want a list of {resource, reason, expires}: %v", rule.ID, err)
			}
			// Compiled here, once: the analyzer checks every resource against them.
			for i := range rc.Waivers {
				rc.Waivers[i].pattern = rc.Waivers[i].compiled()
			}
		default:
			idx := slices.IndexFunc(rule.Params, func(p Param) bool { return p.Name == k })
			if idx < 0 {
				return rc, fmt.Errorf("policy config %q: no parameter %q; the parameters are %s", rule.ID, k, paramNames(rule))
			}
			if err := checkParam(rule, rule.Params[idx], v); err != nil {
				return rc, err
			}
			rc.Params[k] = v
		}
	}
	return rc, nil
}

func checkParam(rule *Rule, p Param, v any) error {
	switch p.Default.(type) {
	case int:
		if f, ok := v.(float64); !ok || f != float64(int(f)) || f < 1 {
			return fmt.Errorf("policy config %q: %s is %v; want a whole number of at least 1", rule.ID, p.Name, v)
		}
	case []int:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("policy config %q: %s is %v; want a list of ports", rule.ID, p.Name, v)
		}
		for _, e := range list {
			if f, ok := e.(float64); !ok || f < 1 || f > 65535 || f != float64(int(f)) {
				return fmt.Errorf("policy config %q: %s holds %v; want ports 1-65535", rule.ID, p.Name, e)
			}
		}
	}
	return nil
}

func paramNames(r *Rule) string {
	names := []string{"enforcementLevel", "waivers"}
	for _, p := range r.Params {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func validLevel(l Level) bool { return l == Mandatory || l == Advisory || l == Disabled }
