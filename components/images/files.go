package images

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Files are the image build's files, under files/: packages, image.sh, install.sh, harden.sh, check.sh.
//
//go:embed files
var Files embed.FS

// Roles are the kinds of host that boot from an image the program builds.
var Roles = []string{"db", "monitoring"}

// Pin is one package an image carries and the release of it that is pinned: an apt version pattern.
type Pin struct {
	Package, Release string
}

// Packages are the pinned packages of the role's image, in the order of the file, read from the same file
// install.sh and check.sh read.
func Packages(role string) ([]Pin, error) {
	if !slices.Contains(Roles, role) {
		return nil, fmt.Errorf("image role %q: want one of %s", role, strings.Join(Roles, ", "))
	}
	f, err := Files.Open("files/packages")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pins []Pin
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 || (fields[0] != "all" && !slices.Contains(Roles, fields[0])) {
			return nil, fmt.Errorf("files/packages line %d: want ROLE PACKAGE RELEASE with ROLE all, %s", line, strings.Join(Roles, ", "))
		}
		if fields[0] == "all" || fields[0] == role {
			pins = append(pins, Pin{Package: fields[1], Release: fields[2]})
		}
	}
	return pins, s.Err()
}

// Script is the content of one of the build's files, by name (install.sh, harden.sh, check.sh, image.sh,
// packages).
func Script(name string) (string, error) {
	b, err := fs.ReadFile(Files, "files/"+name)
	if err != nil {
		return "", fmt.Errorf("image file %q: %w", name, err)
	}
	return string(b), nil
}
