#!/usr/bin/env bash
# harden.sh ROLE: hardens the root it runs in as the host image of ROLE (db, monitoring), after install.sh.
# The image pipeline runs it on the build instance; the tests run it in a Debian 12 root made with
# debootstrap, then check.sh verifies what it did. image.sh says what a hardened image is. Run as root; it
# can run again and changes nothing more.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROLE=${1:-}
# shellcheck source-path=SCRIPTDIR source=image.sh
. "$here/image.sh"
export DEBIAN_FRONTEND=noninteractive
say() { printf 'harden: %s\n' "$*"; }

# Remote shells, services no host offers, automatic upgrades: removed with their configuration.
installed=()
for p in "${FORBIDDEN_PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then installed+=("$p"); fi
done
if [ "${#installed[@]}" -gt 0 ]; then
  say "removing ${installed[*]}"
  apt-get purge -y -q "${installed[@]}" > /dev/null
  apt-get autoremove --purge -y -q > /dev/null
fi

# No SSH: no host keys, no authorized keys, for any account; cloud-init makes none and imports none.
rm -rf /etc/ssh/ssh_host_* /root/.ssh
while IFS=: read -r _ _ _ _ _ home _; do
  case $home in /root | /home/*) rm -rf "$home/.ssh" ;; esac
done < /etc/passwd
mkdir -p "$(dirname "$CLOUD_CFG")"
cat > "$CLOUD_CFG" << 'EOF'
# Hardened host image: no default user, no password logins, no SSH keys from the instance's metadata or
# made at boot. Hosts are reached through Systems Manager Session Manager only.
users: []
disable_root: true
ssh_pwauth: false
allow_public_ssh_keys: false
ssh_deletekeys: true
ssh_genkeytypes: []
EOF
# cloud-init's ssh module writes root's authorized_keys even with no key to put in it: the module lists,
# Debian's own from cloud.cfg, go without it (and without ssh-import-id).
for stage in cloud_init_modules cloud_config_modules; do
  echo "$stage:"
  sed -n "/^$stage:/,/^[^ ]/s/^ - \(.*\)$/\1/p" /etc/cloud/cloud.cfg | grep -vxE 'ssh|ssh-import-id' | sed 's/^/ - /'
done >> "$CLOUD_CFG"
say "no SSH server, no SSH keys"

# Sessions run as an unprivileged user; no agent-made sudo rule survives.
if ! id "$SESSION_USER" > /dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --user-group --comment "Session Manager sessions" "$SESSION_USER"
  say "created the session user $SESSION_USER"
fi
rm -f /etc/sudoers.d/ssm-agent-users

# No password logins: every account's password is locked, and PAM accepts no empty password.
while IFS=: read -r user hash _; do
  case $hash in '!'* | '*'*) ;; *) usermod -L "$user" ;; esac
done < /etc/shadow
# A locked empty password is "!"; usermod leaves an empty one empty, so it gets "*".
awk -F: '$2 == "" || $2 == "!" { print $1 }' /etc/shadow | while read -r user; do usermod -p '*' "$user"; done
sed -i 's/[[:space:]]nullok\b//' /etc/pam.d/common-auth
say "every password locked"

# Services: only the allowed unit files stay enabled; the masked ones cannot be started at all.
mapfile -t enabled <<< "$(systemctl list-unit-files --state=enabled --no-legend | awk '{ print $1 }')"
for unit in "${enabled[@]}"; do
  [ -n "$unit" ] || continue
  if ! in_list "$unit" "${ENABLED_UNITS[@]}"; then
    systemctl disable --quiet "$unit"
    say "disabled $unit"
  fi
done
for unit in "${MASKED_UNITS[@]}"; do
  systemctl mask --quiet "$unit" 2> /dev/null || ln -sf /dev/null "/etc/systemd/system/$unit"
done
systemctl enable --quiet auditd.service chrony.service
say "masked ${MASKED_UNITS[*]}"

# Automatic upgrades off: patches arrive in the stack's maintenance window, through Patch Manager.
cat > "$APT_PERIODIC" << 'EOF'
// Hardened host image: no automatic package updates. Patch Manager patches hosts in the maintenance window.
APT::Periodic::Enable "0";
APT::Periodic::Update-Package-Lists "0";
APT::Periodic::Download-Upgradeable-Packages "0";
APT::Periodic::Unattended-Upgrade "0";
EOF

# Kernel and network settings, and kernel modules no host loads.
mkdir -p "$(dirname "$SYSCTL_FILE")" "$(dirname "$MODPROBE_FILE")"
{
  echo "# Hardened host image (components/images/files/image.sh)."
  printf '%s\n' "${SYSCTL_SETTINGS[@]}" | sed 's/=/ = /'
} > "$SYSCTL_FILE"
{
  echo "# Hardened host image: modules no host loads."
  for m in "${BLOCKED_MODULES[@]}"; do printf 'install %s /bin/false\nblacklist %s\n' "$m" "$m"; done
} > "$MODPROBE_FILE"
# No core dumps: a database's memory holds PHI.
mkdir -p /etc/systemd/coredump.conf.d /etc/security/limits.d /etc/systemd/journald.conf.d
printf '[Coredump]\nStorage=none\nProcessSizeMax=0\n' > /etc/systemd/coredump.conf.d/hipaa.conf
printf '* hard core 0\n' > /etc/security/limits.d/hipaa.conf
# The journal survives a reboot (what happened before a host went down is evidence).
printf '[Journal]\nStorage=persistent\n' > /etc/systemd/journald.conf.d/hipaa.conf
# New files are not world-readable.
sed -i 's/^UMASK[[:space:]].*/UMASK\t\t027/' /etc/login.defs
say "kernel, network, core dump and journal settings"

# Time from the Amazon Time Sync Service only: audit records need one clock.
mkdir -p "$(dirname "$CHRONY_CONF")"
printf '# Amazon Time Sync Service (link-local, reachable from every subnet).\nserver %s prefer iburst minpoll 4 maxpoll 4\n' "$TIME_SERVER" > "$CHRONY_CONF"
sed -i 's/^\(pool\|server\) /# hardened image: only the Amazon Time Sync Service: &/' /etc/chrony/chrony.conf

# auditd: the watches of image.sh, every command run with another user's privileges, every privileged
# (setuid or setgid) program, time and module changes; the rules cannot be changed until a reboot.
arches=(b64)
[ "$(dpkg --print-architecture)" = amd64 ] && arches+=(b32)
{
  echo "## Hardened host image (components/images/files/image.sh): 45 CFR 164.312(b) audit controls."
  echo "-D"
  echo "-b 8192"
  echo "--backlog_wait_time 60000"
  echo "-f 1"
  for w in "${AUDIT_WATCHES[@]}"; do
    printf -- '-w %s -p wa -k %s\n' "${w#*:}" "${w%%:*}"
  done
  for a in "${arches[@]}"; do
    printf -- '-a always,exit -F arch=%s -C euid!=uid -F auid!=unset -S execve -k user_emulation\n' "$a"
    printf -- '-a always,exit -F arch=%s -S adjtimex,settimeofday,clock_settime -k time\n' "$a"
    printf -- '-a always,exit -F arch=%s -S init_module,finit_module,delete_module -k modules\n' "$a"
  done
  find / -xdev -type f \( -perm -4000 -o -perm -2000 \) 2> /dev/null | sort | while read -r f; do
    printf -- '-a always,exit -F path=%s -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n' "$f"
  done
  echo "-e 2"
} > "$AUDIT_RULES"
# auditctl(8): -w on a directory is -F dir (the tree), on anything else -F path (that name only), as found
# when the rules load; so each watched directory exists from the start.
for w in "${AUDIT_WATCHES[@]}"; do
  path=${w#*:}
  case $path in */) [ -d "$path" ] || install -d -m 0755 "$path" ;; esac
done
rm -f /etc/audit/rules.d/audit.rules
augenrules > /dev/null
say "$(grep -c '^-[aw]' "$AUDIT_RULES") audit rules"

say "done: the $ROLE image is hardened"
