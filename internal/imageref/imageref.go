// Package imageref parses the container image references a release names: a tag or a digest, with or
// without the registry and repository in front. The program and platformctl read references with the
// same code, so an image the command line accepts is one the program can run.
package imageref

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is a parsed image reference. Tag or Digest is set, or both.
type Ref struct {
	// Registry is the registry host, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com; empty when the
	// reference names none.
	Registry string
	// Repository is the repository name, such as hipaa-app; empty when the reference names none.
	Repository string
	// Tag is the image tag, such as v1.4.2.
	Tag string
	// Digest is the content digest, sha256: and 64 hexadecimal digits.
	Digest string
}

var (
	tag        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digest     = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	repository = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	ecrHost    = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)
)

// Parse reads a reference in one of the forms TAG, @DIGEST, REPOSITORY:TAG, REPOSITORY@DIGEST,
// REPOSITORY:TAG@DIGEST, each optionally prefixed by REGISTRY/. The error says which part is wrong and
// what is allowed.
func Parse(s string) (Ref, error) {
	var r Ref
	if s == "" {
		return r, fmt.Errorf("empty image reference; want a tag such as v1.4.2, a digest such as sha256:..., or repository:tag")
	}
	if strings.TrimSpace(s) != s {
		return r, fmt.Errorf("image reference %q has surrounding spaces", s)
	}
	rest := s
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		r.Digest = rest[at+1:]
		rest = rest[:at]
		if !digest.MatchString(r.Digest) {
			return Ref{}, fmt.Errorf("image reference %q: digest %q is not sha256: followed by 64 lower-case hexadecimal digits", s, r.Digest)
		}
	}
	// The tag follows the last colon after the last slash (a registry host may carry a port).
	name := rest
	if c := strings.LastIndex(rest, ":"); c > strings.LastIndex(rest, "/") {
		name, r.Tag = rest[:c], rest[c+1:]
		if !tag.MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("image reference %q: tag %q must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", s, r.Tag)
		}
	} else if r.Digest == "" {
		// A bare word is a tag of the platform's repository.
		if strings.Contains(rest, "/") || !tag.MatchString(rest) {
			return Ref{}, fmt.Errorf("image reference %q names no tag or digest; want TAG, @sha256:..., or [registry/]repository:tag or @digest", s)
		}
		r.Tag, name = rest, ""
	}
	if name != "" {
		if first, after, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
			r.Registry, name = first, after
		}
		if !repository.MatchString(name) {
			return Ref{}, fmt.Errorf("image reference %q: repository %q must be lower-case letters, digits and . _ - separated names", s, name)
		}
		r.Repository = name
	}
	if r.Tag == "" && r.Digest == "" {
		return Ref{}, fmt.Errorf("image reference %q names no tag or digest", s)
	}
	return r, nil
}

// String renders the reference in canonical form.
func (r Ref) String() string {
	var b strings.Builder
	if r.Registry != "" {
		b.WriteString(r.Registry + "/")
	}
	b.WriteString(r.Repository)
	if r.Tag != "" {
		b.WriteString(":" + r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@" + r.Digest)
	}
	return b.String()
}

// ECRAccount returns the account of an ECR registry host, or "" when the registry is not ECR's.
func (r Ref) ECRAccount() string {
	if m := ecrHost.FindStringSubmatch(r.Registry); m != nil {
		return m[1]
	}
	return ""
}

// Same reports whether two references name the same image: the same digest when both carry one,
// otherwise the same repository (when both name one) and the same tag. ECR tags are immutable, so a
// tag names one image for good.
func Same(a, b Ref) bool {
	if a.Repository != "" && b.Repository != "" && a.Repository != b.Repository {
		return false
	}
	if a.Digest != "" && b.Digest != "" {
		return a.Digest == b.Digest
	}
	return a.Tag != "" && a.Tag == b.Tag
}
