package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var phiTagged = engine.Rule{
	ID:          "phi-tagged",
	Description: "Every data store (volume, bucket, host) carries a DataClass tag",
	Citations:   []string{"project"},
	Severity:    engine.Low,
	Fix:         "Tag the resource DataClass: phi (or synthetic for demo data); the naming helper does this.",
	Types:       []string{tVolume, tBucket, tInstance},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch v := r.Tag(naming.DataClassTag); {
		case v.Unknown():
			c.Unknown("tags." + naming.DataClassTag)
		case v.Str() == "":
			c.Fail("tags", "the %s tag is missing; every data store says what data it may hold", naming.DataClassTag)
		}
	},
}
