// Package images holds what makes the platform's database and monitoring host images: the releases of
// the packages each image carries, pinned in one file, and the scripts an image build runs (install.sh
// installs and pins them, harden.sh hardens the root, check.sh verifies it: no SSH server or key, no
// password login, only the role's units enabled, auditd watching the privileged programs and the role's
// configuration, kernel and network settings, no automatic updates, an unprivileged session user). The
// scripts are embedded and made into Image Builder component documents (document.go), so the program
// hands the image build exactly the files the tests run here in a Debian 12 root; Pipelines (pipelines.go)
// declares an account's builds: per role a recipe on Debian 12, encrypted with the EBS key, tested on an
// instance of the new image and scanned before it is distributed, rebuilt weekly. These are the
// safeguards of 45 CFR 164.308(a)(5)(ii)(B) (protection from malicious software), 164.312(a)(1) (access
// control) and 164.312(b) (audit controls).
package images
