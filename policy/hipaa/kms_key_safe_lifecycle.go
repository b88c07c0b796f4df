package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

// minKeyDeletionWindowDays is the shortest deletion window: a key deleted by mistake can be recovered for
// that long, and data encrypted under it is not lost.
const minKeyDeletionWindowDays = 30

var kmsKeySafeLifecycle = engine.Rule{
	ID:          "kms-key-safe-lifecycle",
	Description: "KMS keys wait at least 30 days before deletion, keep the policy lockout check and allow no wildcard principal",
	Citations:   []string{"164.308(a)(1)(ii)(B)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"kms-cmk-not-scheduled-for-deletion"},
		Prowler:     []string{"kms_cmk_not_deleted_unintentionally", "kms_key_not_publicly_accessible"},
	},
	Fix:   "Set deletionWindowInDays to 30, leave bypassPolicyLockoutSafetyCheck unset, and name principals in the key policy instead of \"*\".",
	Types: []string{tKmsKey},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if days, ok := r.Get("deletionWindowInDays").Num(); ok && days < minKeyDeletionWindowDays {
			c.Fail("deletionWindowInDays", "deletionWindowInDays is %v; set it to at least %d", days, minKeyDeletionWindowDays)
		}
		if r.Get("bypassPolicyLockoutSafetyCheck").True() {
			c.Fail("bypassPolicyLockoutSafetyCheck", "bypassPolicyLockoutSafetyCheck is true; remove it so a policy cannot lock the account out of its key")
		}
		failWildcardAllow(c, r, r.Get("policy"), "account or roles that may use the key")
	},
}
