package hipaa

import "github.com/hipaa-platform/platform/internal/naming"

// DataClassTag classifies the data a store may hold.
const DataClassTag = naming.DataClassTag

var phiTagged = Rule{
	ID:          "phi-tagged",
	Description: "Every data store (volume, bucket, host) carries a DataClass tag",
	Citations:   []string{"project"},
	Severity:    Low,
	Fix:         "Tag the resource DataClass: phi (or synthetic for demo data); the naming helper does this.",
	Types:       []string{tVolume, tBucket, tInstance},
	Resource: func(c *Check, r *Resource) {
		switch v := r.Tag(DataClassTag); {
		case v.Unknown():
			c.Unknown("tags." + DataClassTag)
		case v.Str() == "":
			c.Fail("tags", "the %s tag is missing; every data store says what data it may hold", DataClassTag)
		}
	},
}
