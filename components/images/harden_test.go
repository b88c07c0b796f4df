package images_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/images/imagetest"
	"github.com/hipaa-platform/platform/internal/hosttest"
)

// findings are check.sh's FAIL lines.
func findings(out string) []string {
	var f []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "FAIL  "); ok {
			f = append(f, rest)
		}
	}
	return f
}

// TestHardeningPassesTheImageCheck runs the image pipeline's steps for real, for each role, as its component
// documents give them, in the Debian 12 root the host tests boot (made with debootstrap from Debian's
// packages, with what Debian's EC2 image carries): the check component's test fails on the root as built,
// naming what is wrong; the sources component points apt at HTTPS; the harden component hardens the root;
// the check then passes in the root, and again on the hardened root booted, where it also sees what
// listens and which units failed. The install component's commands are not run: they need Debian's
// mirror and the region's bucket (the test root was built with the same install.sh by .ci/host-root).
func TestHardeningPassesTheImageCheck(t *testing.T) {
	root := hosttest.Root(t)
	for _, role := range images.Roles {
		t.Run(role, func(t *testing.T) {
			layer := imagetest.WithScripts(t, root)
			out, err := imagetest.Run(t, layer, "check", "test", role)
			if err == nil || !strings.Contains(err.Error(), "exit status 1") {
				t.Fatalf("the check of a root that was not hardened: %v, want exit status 1\n%s", err, out)
			}
			got := strings.Join(findings(out), "\n")
			for _, want := range []string{
				"package openssh-server is installed", "an SSH server is installed (/usr/sbin/sshd)",
				"SSH host key /etc/ssh/ssh_host_ed25519_key exists", "unit apt-daily-upgrade.timer is enabled",
				"package unattended-upgrades is installed", "unit ssh.service is not masked",
				"auditd does not record runs of the privileged program /usr/bin/sudo",
				"/etc/sysctl.d/90-hipaa.conf does not set net.ipv4.conf.all.accept_redirects = 0",
				"APT::Periodic::Unattended-Upgrade is '1', not 0", "time from the Amazon Time Sync Service only",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("the check of the root as built does not say %q; it says:\n%s", want, got)
				}
			}

			if out, err := imagetest.Run(t, layer, "sources", "build", role); err != nil || !strings.Contains(out, "apt's sources are HTTPS") {
				t.Fatalf("the sources component: %v\n%s", err, out)
			}
			if out, err := imagetest.Run(t, layer, "harden", "build", role); err != nil {
				t.Fatalf("the harden component for %s: %v\n%s", role, err, out)
			}
			out, err = imagetest.Run(t, layer, "check", "test", role)
			if err != nil || !strings.Contains(out, "check: the "+role+" image is hardened") {
				t.Fatalf("the check of the hardened root: %v\n%s", err, out)
			}
			if !strings.Contains(out, "not booted (a chroot)") {
				t.Errorf("the check in a root not booted does not say what it could not check:\n%s", out)
			}
			// harden.sh can run again: nothing more to change, the check still passes.
			if out, err := hosttest.RunIn(layer, imagetest.Scripts+"/harden.sh", role); err != nil || strings.Contains(out, "disabled ") || strings.Contains(out, "removing ") {
				t.Errorf("harden.sh again: %v\n%s", err, out)
			}

			if role == "db" {
				checkFindsEachRegression(t, layer)
			}

			n := hosttest.NewNetwork(t, layer, "unused")
			m := n.Boot(t, hosttest.Config{Name: "image-" + role, Addr: n.Addr(10), UserData: []byte("#cloud-config\n{}\n")})
			m.WaitFor(t, "cloud-init's final stage", 2*time.Minute, func() bool {
				_, err := m.Exec("test", "-e", "/var/lib/cloud/instance/boot-finished")
				return err == nil
			}, m.Diagnose)
			out, err = m.Exec(imagetest.Scripts+"/check.sh", role)
			if err != nil {
				t.Fatalf("the check of the hardened %s image, booted: %v", role, err)
			}
			for _, want := range []string{"booted in a container", "ok    no unit failed", "check: the " + role + " image is hardened"} {
				if !strings.Contains(out, want) {
					t.Errorf("the check of the booted image does not say %q:\n%s", want, out)
				}
			}
			t.Logf("the hardened %s image, booted:\n%s", role, out)
		})
	}
}

// checkFindsEachRegression undoes one piece of the hardening of a hardened db root per case, in a layer of
// its own, and expects the check to report exactly that.
func checkFindsEachRegression(t *testing.T, hardened string) {
	for _, c := range []struct {
		name, undo string
		want       []string
	}{
		{"an authorized key", "mkdir -p /root/.ssh && echo 'ssh-ed25519 AAAA test' > /root/.ssh/authorized_keys",
			[]string{"authorized SSH keys exist: /root/.ssh/authorized_keys "}},
		{"a password", "usermod -p '$6$salt$hash' postgres",
			[]string{"accounts with a usable or empty password: postgres "}},
		{"a daemon enabled", "systemctl enable --quiet etcd.service",
			[]string{"unit etcd.service is enabled"}},
		{"apt's timer unmasked", "systemctl unmask --quiet apt-daily.timer",
			[]string{"unit apt-daily.timer is not masked"}},
		{"a network setting", "sed -i '/ip_forward/d' /etc/sysctl.d/90-hipaa.conf",
			[]string{"/etc/sysctl.d/90-hipaa.conf does not set net.ipv4.ip_forward = 0"}},
		{"a new setuid program", "cp /bin/true /usr/local/bin/elevate && chmod u+s /usr/local/bin/elevate",
			[]string{"auditd does not record runs of the privileged program /usr/local/bin/elevate"}},
		{"an unpinned release", "rm /etc/apt/preferences.d/hipaa-pins",
			[]string{"apt pins the releases"}},
		{"a watch removed", "sed -i '\\#-w /etc/patroni/ #d' /etc/audit/rules.d/hipaa.rules",
			[]string{"auditd does not watch /etc/patroni/ (/etc/audit/rules.d/hipaa.rules)"}},
		{"the agent's sudo rule", "echo 'hipaa-session ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ssm-agent-users",
			[]string{"sudoers names the session user hipaa-session", "sudo without a password: /etc/sudoers.d/ssm-agent-users "}},
		{"empty passwords accepted", "sed -i 's/pam_unix.so/pam_unix.so nullok/' /etc/pam.d/common-auth",
			[]string{"PAM accepts empty passwords (nullok in /etc/pam.d/common-auth)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			layer := hosttest.Layer(t, hardened)
			if out, err := hosttest.RunIn(layer, "sh", "-ec", c.undo); err != nil {
				t.Fatalf("%s: %v\n%s", c.undo, err, out)
			}
			out, err := hosttest.RunIn(layer, imagetest.Scripts+"/check.sh", "db")
			if err == nil {
				t.Fatalf("the check passed with %s:\n%s", c.name, out)
			}
			if got := findings(out); !slices.Equal(got, c.want) {
				t.Errorf("with %s the check found\n  %q\nwant\n  %q", c.name, got, c.want)
			}
		})
	}
}
