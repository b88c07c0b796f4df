package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ContentTag is the tag a build is pushed under: prefix, a hyphen and the first 12 hex digits of the
// SHA-256 of what the build is made from (every file of the context but .git, each by its path, mode and
// content, in path order; the Dockerfile; the platform). A rebuild of the same content gets the same tag,
// so it pushes nothing new; a build of other content gets a new tag, so it never tries to push a different
// image under a tag the repository has, which its IMMUTABLE tags refuse. Files the .dockerignore
// excludes count too: a change to one of them gives a new tag, never a reused one.
func ContentTag(prefix, context, dockerfile, platform string) (string, error) {
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(context, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type().IsRegular():
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the build context %s: %w", context, err)
	}
	slices.Sort(paths)
	add := func(name, path string) error {
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", name, info.Mode().Perm(), info.Size())
		_, err = io.Copy(h, f)
		return err
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(context, p) // p is below context
		if err := add(filepath.ToSlash(rel), p); err != nil {
			return "", fmt.Errorf("reading the build context: %w", err)
		}
	}
	if dockerfile != "" {
		if err := add("\x00dockerfile", dockerfile); err != nil {
			return "", fmt.Errorf("reading the Dockerfile: %w", err)
		}
	}
	fmt.Fprintf(h, "\x00platform\x00%s", platform)
	return prefix + "-" + hex.EncodeToString(h.Sum(nil))[:12], nil
}
