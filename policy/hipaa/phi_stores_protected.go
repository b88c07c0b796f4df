package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

// phiStoreTypes are the resources that hold PHI or guard it: buckets, volumes, the database hosts,
// secrets and the keys that encrypt them.
var phiStoreTypes = []string{tBucket, tVolume, tInstance, tSecret, tKmsKey}

var phiStoresProtected = engine.Rule{
	ID:          "phi-stores-protected",
	Description: "In a stack that protects its keys, every store of PHI (buckets, volumes, database hosts, secrets, keys) is protected too",
	Citations:   []string{"164.312(c)(1)", "164.308(a)(7)(ii)(A)"},
	Severity:    engine.High,
	Fix:         "Give the store the protect resource option (the program sets it on every stateful component with hipaa:protect), so that no update or destroy replaces or deletes it until protection is deliberately lifted.",
	Types:       phiStoreTypes,
	Stack: func(c *engine.Check, s *engine.Stack) {
		asks := false
		for _, k := range s.OfType(tKmsKey) {
			asks = asks || k.Options.Protect
		}
		if !asks {
			return // the stack does not ask for protection (dev, test, a demo)
		}
		for _, typ := range phiStoreTypes {
			for _, r := range s.OfType(typ) {
				switch {
				case r.Options.Protect, r.Tag(naming.DataClassTag).Str() == naming.Synthetic:
				case typ == tInstance && r.Tag(naming.RoleTag).Str() != naming.RoleDatabase:
				default:
					c.FailOn(r.URN, "", "%s holds or guards PHI in a stack that protects its keys, but is not protected; an update that replaces it, or a destroy, would lose it", r.Name)
				}
			}
		}
	},
}
