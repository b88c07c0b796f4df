package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var dedicatedTenancy = engine.Rule{
	ID:          "dedicated-tenancy",
	Description: "VPCs, instances and launch templates run on dedicated hardware",
	Citations:   []string{"project"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"desired-instance-tenancy"},
	},
	Fix:   `Set instanceTenancy: dedicated on VPCs, and tenancy (placement.tenancy in launch templates) to dedicated or host.`,
	Types: []string{tVpc, tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		var v engine.V
		switch r.Type {
		case tVpc:
			v = r.Get("instanceTenancy")
			if v.Unknown() {
				c.Unknown(v.Path())
			} else if v.Str() != "dedicated" {
				c.Fail(v.Path(), "instanceTenancy is %s; set it to dedicated", orUnset(v))
			}
			return
		case tInstance:
			v = r.Get("tenancy")
		case tLaunchTemplate:
			v = r.Get("placement", "tenancy")
		}
		if v.Unknown() {
			c.Unknown(v.Path())
		} else if s := v.Str(); s != "dedicated" && s != "host" {
			c.Fail(v.Path(), "%s is %s; set it to dedicated (or host)", v.Path(), orUnset(v))
		}
	},
}

// orUnset renders a value for a message: quoted, or "not set".
func orUnset(v engine.V) string {
	if v.Missing() || v.Str() == "" {
		return "not set"
	}
	return `"` + v.Str() + `"`
}
