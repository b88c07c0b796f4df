// Package outputs names the stack outputs that tools read back from a deployed stack: the program
// exports them and platformctl reads them, so both use these names.
package outputs

const (
	// Release is {requested, image}: the release as configured and the image pinned by digest.
	Release = "release"
	// Owner is who the stack is for (aws:defaultTags Owner).
	Owner = "owner"
	// ExpiresAt is a demo stack's expiry, RFC 3339; absent on stacks that do not expire.
	ExpiresAt = "expiresAt"
)
