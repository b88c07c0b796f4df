package hipaa

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var secretsPasswordsRotated = engine.Rule{
	ID: "secrets-passwords-rotated",
	Description: "Every secret that holds a generated password is rotated at least every maximumDays: by a Secrets Manager " +
		"rotation, or by the hosts that use it, which declare the period and may put the secret's new value",
	Citations: []string{"164.308(a)(5)(ii)(D)", "164.312(d)", "164.312(a)(1)"},
	Severity:  engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"secretsmanager-rotation-enabled-check", "secretsmanager-secret-periodic-rotation", "secretsmanager-scheduled-rotation-success-check"},
		Prowler:     []string{"secretsmanager_automatic_rotation_enabled", "secretsmanager_secret_rotated_periodically"},
	},
	Fix: "Declare an aws.secretsmanager.SecretRotation of the secret with rotationRules.automaticallyAfterDays (or a rate() " +
		"scheduleExpression) within maximumDays; or, where the hosts rotate it themselves (the database's hipaa-db rotate), tag " +
		"the secret " + naming.RotationDaysTag + "=<days> and give their role secretsmanager:PutSecretValue on it.",
	Types:  []string{tSecret},
	Params: []engine.Param{{Name: "maximumDays", Description: "the longest a password may go unrotated, in days", Default: 90}},
	Stack: func(c *engine.Check, s *engine.Stack) {
		max := c.Int("maximumDays")
		var writers *secretWriters
		for _, sec := range s.OfType(tSecret) {
			if !holdsPassword(s, sec) {
				continue
			}
			if rotations := s.Referencing(sec, tSecretRotation, "secretId"); len(rotations) > 0 {
				for _, r := range rotations {
					rotationWithin(c, r, max)
				}
				continue
			}
			days := sec.Tag(naming.RotationDaysTag)
			switch n, err := strconv.Atoi(days.Str()); {
			case days.Unknown():
				c.UnknownOn(sec.URN, "tags."+naming.RotationDaysTag)
			case days.Str() == "":
				c.FailOn(sec.URN, "", "the secret holds a generated password and nothing rotates it: no SecretRotation of it, and no %s tag "+
					"declaring that its users rotate it", naming.RotationDaysTag)
			case err != nil || n < 1:
				c.FailOn(sec.URN, "tags."+naming.RotationDaysTag, "got %q; want a whole number of days, at least 1", days.Str())
			case n > max:
				c.FailOn(sec.URN, "tags."+naming.RotationDaysTag, "the password rotates every %d days; the most allowed is %d", n, max)
			default:
				if writers == nil {
					writers = newSecretWriters(c, s)
				}
				switch mayPut, unknown := writers.put(sec); {
				case mayPut:
				case unknown != nil:
					c.UnknownOn(unknown.URN, "policy")
				default:
					c.FailOn(sec.URN, "tags."+naming.RotationDaysTag, "the secret says its users rotate it every %d days, but no policy of this stack "+
						"allows secretsmanager:PutSecretValue on it, so nothing can", n)
				}
			}
		}
	},
}

// holdsPassword is whether a version of sec has a value computed from a generated password.
func holdsPassword(s *engine.Stack, sec *engine.Resource) bool {
	for _, v := range s.Referencing(sec, tSecretVersion, "secretId") {
		for _, urn := range v.PropertyDependencies["secretString"] {
			if r := s.ByURN(urn); r != nil && r.Type == tRandomPassword {
				return true
			}
		}
	}
	return false
}

// rateDays reads a rate() schedule expression of Secrets Manager's ("rate(10 days)", "rate(12 hours)":
// RotationRulesType, Secrets Manager API reference) as days, rounded up.
var rateDays = regexp.MustCompile(`^rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)$`)

// rotationWithin checks that a Secrets Manager rotation runs at least every max days.
func rotationWithin(c *engine.Check, r *engine.Resource, max int) {
	after, expr := r.Get("rotationRules", "automaticallyAfterDays"), r.Get("rotationRules", "scheduleExpression")
	switch {
	case after.Unknown():
		c.UnknownOn(r.URN, after.Path())
	case expr.Unknown():
		c.UnknownOn(r.URN, expr.Path())
	case after.Present():
		if n, _ := after.Num(); n > float64(max) {
			c.FailOn(r.URN, after.Path(), "the password rotates every %g days; the most allowed is %d", n, max)
		}
	case expr.Str() != "":
		m := rateDays.FindStringSubmatch(expr.Str())
		if m == nil {
			c.FailOn(r.URN, expr.Path(), "%q is not a rate() of hours or days, so how often the password rotates cannot be shown; "+
				"use automaticallyAfterDays or rate(N days)", expr.Str())
			return
		}
		n, _ := strconv.Atoi(m[1])
		if m[2] == "hour" || m[2] == "hours" {
			n = (n + 23) / 24
		}
		if n > max {
			c.FailOn(r.URN, expr.Path(), "the password rotates every %d days; the most allowed is %d", n, max)
		}
	default:
		c.FailOn(r.URN, "rotationRules", "the rotation has no schedule: set automaticallyAfterDays or scheduleExpression")
	}
}

// secretWriters is what the stack's policies allow secretsmanager:PutSecretValue on, read once per
// stack: each policy document is parsed once, however many secrets there are.
type secretWriters struct {
	anySecret bool            // a statement allows it on "*"
	exact     map[string]bool // resources named as they are
	patterns  []string        // resources with wildcards
	// fromSecret holds the URNs of the secrets a policy that allows it on a Secrets Manager ARN was
	// computed from (its document's property dependencies); unknown, of those whose document is not
	// known, by secret.
	fromSecret map[string]bool
	unknown    map[string]*engine.Resource
}

func newSecretWriters(c *engine.Check, s *engine.Stack) *secretWriters {
	w := &secretWriters{exact: map[string]bool{}, fromSecret: map[string]bool{}, unknown: map[string]*engine.Resource{}}
	for _, typ := range []string{tRolePolicy, tIamPolicy, tUserPolicy, tGroupPolicy} {
		for _, p := range s.OfType(typ) {
			deps := p.PropertyDependencies["policy"]
			doc := p.Get("policy")
			if doc.Unknown() {
				for _, urn := range deps {
					if w.unknown[urn] == nil {
						w.unknown[urn] = p
					}
				}
				continue
			}
			statements, _ := statementsOf(c, p, doc)
			puts := false
			for _, st := range statements {
				if !st.allows() || !st.matchesAction("secretsmanager:PutSecretValue") {
					continue
				}
				for _, res := range st.Resources {
					switch {
					case res == "*":
						w.anySecret = true
					case strings.ContainsAny(res, "*?"):
						w.patterns = append(w.patterns, res)
					default:
						w.exact[res] = true
					}
					puts = puts || strings.Contains(res, ":secretsmanager:")
				}
			}
			if puts {
				for _, urn := range deps {
					w.fromSecret[urn] = true
				}
			}
		}
	}
	return w
}

// put is whether a policy allows secretsmanager:PutSecretValue on sec. A statement names sec by its ARN
// where the stack knows it (a deployed state); in a preview, where the secret's ARN is not known yet, by
// a Secrets Manager ARN in a policy whose document was computed from the secret, which a policy that
// reads one secret and writes another would pass. "*" names every secret. unknown is a policy computed
// from sec whose document is not known, when no policy allows it.
func (w *secretWriters) put(sec *engine.Resource) (ok bool, unknown *engine.Resource) {
	if w.anySecret {
		return true, nil
	}
	if arn := sec.Get("arn").Str(); arn != "" {
		if w.exact[arn] {
			return true, nil
		}
		for _, p := range w.patterns {
			if wildcardMatch(p, arn) {
				return true, nil
			}
		}
	} else if w.fromSecret[sec.URN] {
		return true, nil
	}
	return false, w.unknown[sec.URN]
}
