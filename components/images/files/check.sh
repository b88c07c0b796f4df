#!/usr/bin/env bash
# check.sh ROLE: verifies that the root it runs in is a hardened host image of ROLE (db, monitoring), as
# image.sh defines one: what is installed at which release, that nothing forbidden is, that no SSH server,
# host key or authorized key exists and no password opens an account, which units are enabled, and the
# audit, kernel, time and update settings. On a booted host it also checks what listens, the settings in
# force and which units failed; in a root that is not booted (a chroot) it says it did not. The image
# pipeline's test step runs it on an instance of the new image; the tests run it here before and after
# harden.sh. Prints one line per finding and exits 1 when any failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROLE=${1:-}
# shellcheck source-path=SCRIPTDIR source=image.sh
. "$here/image.sh"
read_packages "$here/packages"

failures=0
ok() { printf 'ok    %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}
skip() { printf 'skip  %s\n' "$*"; }
# expect WHAT CONDITION...: ok when the command succeeds, FAIL otherwise.
expect() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
has_line() { [ -f "$1" ] && grep -qxF -- "$2" "$1"; }

booted=false
[ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2> /dev/null)" = systemd ] && booted=true
container=$(systemd-detect-virt --container 2> /dev/null || true)
[ "$container" = none ] && container=""
echo "check: the $ROLE image; $($booted && echo "booted${container:+ in a container ($container)}" || echo "not booted (a chroot): listeners, settings in force and failed units are not checked")"

# Packages: every pinned one installed at its release, no forbidden one installed.
for p in $(printf '%s\n' "${!PINNED[@]}" | sort); do
  v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2> /dev/null)
  case $v in
  'install ok installed '*)
    v=${v#install ok installed }
    # shellcheck disable=SC2053 # the release is a pattern
    if [[ $v == ${PINNED[$p]} ]]; then ok "package $p $v (pinned ${PINNED[$p]})"; else fail "package $p is $v, not the pinned release ${PINNED[$p]}"; fi
    ;;
  *) fail "package $p (pinned ${PINNED[$p]}) is not installed" ;;
  esac
done
for p in "${FORBIDDEN_PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed'; then fail "package $p is installed"; fi
done
expect "apt pins the releases" grep -qs "^Pin: version" /etc/apt/preferences.d/hipaa-pins

# SSH: no server, no host key, no authorized key anywhere, none made or imported by cloud-init.
[ -e /usr/sbin/sshd ] && fail "an SSH server is installed (/usr/sbin/sshd)"
for k in /etc/ssh/ssh_host_*; do [ -e "$k" ] && fail "SSH host key $k exists"; done
keys=$( (
  echo /root
  cut -d: -f6 /etc/passwd
) | sort -u | while read -r home; do
  for f in "$home"/.ssh/authorized_keys "$home"/.ssh/authorized_keys2; do [ -e "$f" ] && echo "$f"; done
done)
if [ -z "$keys" ]; then ok "no authorized SSH keys"; else fail "authorized SSH keys exist: $(echo "$keys" | tr '\n' ' ')"; fi
expect "cloud-init imports no SSH key" has_line "$CLOUD_CFG" "allow_public_ssh_keys: false"
expect "cloud-init allows no password logins" has_line "$CLOUD_CFG" "ssh_pwauth: false"
expect "cloud-init makes no default user" has_line "$CLOUD_CFG" "users: []"
if grep -qs '^cloud_init_modules:' "$CLOUD_CFG" && ! grep -qsx ' - ssh' "$CLOUD_CFG"; then
  ok "cloud-init runs no ssh module"
else
  fail "cloud-init runs its ssh module, which writes root's authorized_keys ($CLOUD_CFG)"
fi

# Passwords: every account locked, no empty password accepted.
open=$(awk -F: '$2 !~ /^[!*]/ { print $1 }' /etc/shadow | tr '\n' ' ')
if [ -z "$open" ]; then ok "every account's password is locked"; else fail "accounts with a usable or empty password: $open"; fi
grep -qs nullok /etc/pam.d/common-auth && fail "PAM accepts empty passwords (nullok in /etc/pam.d/common-auth)"

# Sessions: an unprivileged user, and nobody sudo without a password.
if ! id "$SESSION_USER" > /dev/null 2>&1; then
  fail "the session user $SESSION_USER does not exist"
elif [ "$(id -Gn "$SESSION_USER")" != "$SESSION_USER" ]; then
  fail "the session user $SESSION_USER is in the groups $(id -Gn "$SESSION_USER")"
elif grep -rqs -e "^[^#]*\b$SESSION_USER\b" /etc/sudoers /etc/sudoers.d/; then
  fail "sudoers names the session user $SESSION_USER"
else
  ok "sessions run as $SESSION_USER, who has no privilege"
fi
if nopasswd=$(grep -rls -e '^[^#]*NOPASSWD' /etc/sudoers /etc/sudoers.d/); then
  fail "sudo without a password: $(echo "$nopasswd" | tr '\n' ' ')"
fi

# Units: only the allowed enabled; the masked masked; auditd and chrony on.
before=$failures
enabled=$(systemctl list-unit-files --state=enabled --no-legend | awk '{ print $1 }')
while read -r unit; do
  [ -n "$unit" ] || continue
  in_list "$unit" "${ENABLED_UNITS[@]}" || fail "unit $unit is enabled"
done <<< "$enabled"
for unit in "${MASKED_UNITS[@]}"; do
  [ "$(systemctl is-enabled "$unit" 2> /dev/null)" = masked ] || fail "unit $unit is not masked"
done
for unit in auditd.service chrony.service; do
  [ "$(systemctl is-enabled "$unit" 2> /dev/null)" = enabled ] || fail "unit $unit is not enabled"
done
[ "$failures" = "$before" ] && ok "units: $(grep -c . <<< "$enabled") enabled, each allowed, the masked masked"

# Updates: apt upgrades nothing by itself.
for k in Unattended-Upgrade Update-Package-Lists; do
  v=$(apt-config dump "APT::Periodic::$k" | sed -n "s/^APT::Periodic::$k \"\(.*\)\";$/\1/p")
  [ "$v" = 0 ] || fail "APT::Periodic::$k is '${v:-unset}', not 0 (apt would update by itself)"
done

# Kernel and network settings, in the file and, booted, in force.
for s in "${SYSCTL_SETTINGS[@]}"; do
  key=${s%%=*} want=${s#*=}
  has_line "$SYSCTL_FILE" "$key = $want" || fail "$SYSCTL_FILE does not set $key = $want"
  $booted || continue
  proc=/proc/sys/${key//.//}
  if [ -n "$container" ] && [[ $key != net.* ]]; then continue; fi
  if [ ! -e "$proc" ]; then
    skip "$key: this kernel has no such setting"
  elif [ "$(cat "$proc")" != "$want" ]; then
    fail "$key is $(cat "$proc") in force, not $want"
  fi
done
if $booted && [ -n "$container" ]; then
  skip "kernel.* and fs.* in force: in a container they are the host's (checked in the file only)"
fi
for m in "${BLOCKED_MODULES[@]}"; do
  has_line "$MODPROBE_FILE" "install $m /bin/false" || fail "module $m is not blocked in $MODPROBE_FILE"
done
expect "no core dumps" has_line /etc/systemd/coredump.conf.d/hipaa.conf "Storage=none"
expect "no core dumps for login sessions" has_line /etc/security/limits.d/hipaa.conf "* hard core 0"
expect "the journal is persistent" has_line /etc/systemd/journald.conf.d/hipaa.conf "Storage=persistent"
expect "umask 027" grep -qsE '^UMASK[[:space:]]+027$' /etc/login.defs
expect "time from the Amazon Time Sync Service only" has_line "$CHRONY_CONF" "server $TIME_SERVER prefer iburst minpoll 4 maxpoll 4"
grep -qsE '^(pool|server) ' /etc/chrony/chrony.conf && fail "chrony uses other time sources (/etc/chrony/chrony.conf)"

# Audit: the watches, every privileged program, the rules immutable, compiled for auditd.
for w in "${AUDIT_WATCHES[@]}"; do
  has_line "$AUDIT_RULES" "-w ${w#*:} -p wa -k ${w%%:*}" || fail "auditd does not watch ${w#*:} ($AUDIT_RULES)"
done
while read -r f; do
  [ -n "$f" ] || continue
  has_line "$AUDIT_RULES" "-a always,exit -F path=$f -F perm=x -F auid>=1000 -F auid!=unset -k privileged" ||
    fail "auditd does not record runs of the privileged program $f"
done <<< "$(find / -xdev -type f \( -perm -4000 -o -perm -2000 \) 2> /dev/null | sort)"
expect "audit rules cannot change until a reboot" [ "$(grep -v '^#' "$AUDIT_RULES" 2> /dev/null | tail -n 1)" = "-e 2" ]
expect "auditd loads these rules (/etc/audit/audit.rules)" grep -qsF -- "-k privileged" /etc/audit/audit.rules
if $booted && [ -z "$container" ]; then
  expect "auditd is enabled and immutable in the kernel" sh -c 'auditctl -s | grep -qx "enabled 2"'
elif $booted; then
  skip "audit rules in force: a container has no audit subsystem of its own"
fi

if $booted; then
  # What listens: loopback only, but for the role's ports; never SSH.
  while read -r proto addr; do
    [ -n "$addr" ] || continue
    port=${addr##*:} host=${addr%:*}
    host=${host#[} host=${host%]} host=${host%%%*}
    if [ "$port" = 22 ]; then
      fail "something listens on $proto port 22 ($addr)"
    elif [[ $host == 127.* || $host == ::1 || $host == ::ffff:127.* ]]; then
      ok "listens on loopback only: $proto $addr"
    elif in_list "$port" "${LISTEN_PORTS[@]}"; then
      ok "listens for the role's peers: $proto $addr"
    else
      fail "listens on a routable address: $proto $addr"
    fi
  done <<< "$(ss -Hlntu | awk '{ print $1, $5 }')"
  failed=$(systemctl list-units --state=failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')
  if [ -n "$container" ] && [[ " $failed " == *" auditd.service "* ]]; then
    skip "auditd.service failed: a container has no audit subsystem of its own"
    failed=${failed/auditd.service /}
  fi
  if [ -z "$failed" ]; then ok "no unit failed"; else fail "units failed: $failed"; fi
fi

if [ "$failures" -gt 0 ]; then
  echo "check: $failures findings; the $ROLE image is not hardened"
  exit 1
fi
echo "check: the $ROLE image is hardened"
