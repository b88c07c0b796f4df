// Package registry declares the private container registry the releases run from: an ECR repository
// encrypted with a customer-managed key (45 CFR 164.312(a)(2)(iv)), with immutable tags and a scan of
// every pushed image, a repository policy that names the accounts allowed to pull (164.312(a)(1)), and a
// lifecycle policy that expires untagged images and throw-away build tags but keeps every released
// image, so that any release can be rolled back to (164.308(a)(7)). Optionally the repository is
// replicated to a second region under a key of that region, and an image is built from a context and
// pushed with the registry's own short-lived credentials.
package registry
