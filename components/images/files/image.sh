# shellcheck shell=bash disable=SC2034 # definitions, used by the scripts that source this file
# What a hardened host image is, for one role: sourced by harden.sh, which makes a root so, and by check.sh,
# which verifies it. It defines variables only. ROLE is db or monitoring.

# check_role ROLE: exits 2, naming the roles, unless ROLE is one.
check_role() {
  case $1 in
  db | monitoring) ;;
  *)
    echo "${0##*/}: the role must be db or monitoring, not '$1'" >&2
    exit 2
    ;;
  esac
}
check_role "${ROLE:-}"

# in_list WORD ITEM...: whether WORD is one of the items. (Not printf | grep -q: under pipefail, grep's
# early exit can kill printf with SIGPIPE and make a match look like a miss.)
in_list() {
  local word=$1 item
  shift
  for item in "$@"; do [ "$item" = "$word" ] && return 0; done
  return 1
}

# The unit files that may be enabled; harden.sh disables every other. What a role runs beyond these (Patroni,
# etcd, Nagios, Apache, the backup timers) its converge script enables once it has its configuration: an
# image boots no daemon with a packaged default configuration. The network units are the ones Debian's EC2
# image may use; getty's give the EC2 serial console a prompt no password opens.
ENABLED_UNITS=(
  auditd.service chrony.service cron.service rsyslog.service apparmor.service
  cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service cloud-init-hotplugd.socket
  networking.service systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service
  getty@.service serial-getty@.service systemd-pstore.service remote-fs.target
  amazon-ssm-agent.service snap.amazon-ssm-agent.amazon-ssm-agent.service amazon-cloudwatch-agent.service
  e2scrub_reap.service e2scrub_all.timer fstrim.timer dpkg-db-backup.timer logrotate.timer
)
case $ROLE in
db) ENABLED_UNITS+=(postgresql.service nagios-nrpe-server.service) ;;
monitoring) ;;
esac

# Units masked, so that no package's upgrade enables them again: the SSH server, apt's own timers (patches
# arrive through Patch Manager, in the stack's maintenance window, never by themselves), and the console's
# reboot key and debug shell.
MASKED_UNITS=(
  ssh.service ssh.socket sshd.service
  apt-daily.timer apt-daily-upgrade.timer unattended-upgrades.service
  ctrl-alt-del.target debug-shell.service
)

# Packages that must not be installed: remote shells and file transfer, services no host here offers, and
# automatic upgrades.
FORBIDDEN_PACKAGES=(
  openssh-server openssh-sftp-server dropbear telnetd inetutils-telnetd rsh-server rsh-redone-server
  tftpd-hpa vsftpd xinetd nis rpcbind nfs-kernel-server avahi-daemon cups unattended-upgrades
)

# TCP and UDP ports a booted image may listen on beyond loopback (the role's peers reach them through its
# security groups); nothing else listens on a routable address, and port 22 not even on loopback.
case $ROLE in
# PostgreSQL, the Patroni REST API, etcd's clients and peers, the pgBackRest TLS server, NRPE.
db) LISTEN_PORTS=(5432 8008 2379 2380 8432 5666) ;;
# etcd's clients and peers (the witness of the database's store).
monitoring) LISTEN_PORTS=(2379 2380) ;;
esac

# Kernel and network settings (/etc/sysctl.d). The net.* ones are per network namespace; in a container the
# kernel.* and fs.* ones are the host's.
SYSCTL_SETTINGS=(
  net.ipv4.ip_forward=0
  net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
  net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0
  net.ipv4.conf.all.secure_redirects=0 net.ipv4.conf.default.secure_redirects=0
  net.ipv4.conf.all.accept_source_route=0 net.ipv4.conf.default.accept_source_route=0
  net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
  net.ipv4.conf.all.log_martians=1 net.ipv4.conf.default.log_martians=1
  net.ipv4.icmp_echo_ignore_broadcasts=1 net.ipv4.icmp_ignore_bogus_error_responses=1
  net.ipv4.tcp_syncookies=1
  net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.default.accept_redirects=0
  net.ipv6.conf.all.forwarding=0
  kernel.randomize_va_space=2 kernel.kptr_restrict=2 kernel.dmesg_restrict=1 kernel.sysrq=0
  kernel.yama.ptrace_scope=1 kernel.unprivileged_bpf_disabled=1
  fs.suid_dumpable=0 fs.protected_hardlinks=1 fs.protected_symlinks=1 fs.protected_regular=2 fs.protected_fifos=1
)

# Kernel modules no host loads: rare file systems, removable storage, rare network protocols.
BLOCKED_MODULES=(cramfs freevxfs hfs hfsplus jffs2 udf usb-storage firewire-core dccp sctp rds tipc bluetooth)

# What auditd watches for writes and attribute changes, by key: the accounts and privileges, the audit
# configuration itself, and the role's configuration (the files its converge script installs and what they
# are rendered from).
AUDIT_WATCHES=(
  identity:/etc/passwd identity:/etc/group identity:/etc/shadow identity:/etc/gshadow
  identity:/etc/security/opasswd
  privileges:/etc/sudoers privileges:/etc/sudoers.d/
  audit-config:/etc/audit/ audit-config:/etc/systemd/journald.conf
  time:/etc/localtime
  host-config:/etc/hipaa/
)
case $ROLE in
db)
  AUDIT_WATCHES+=(
    postgresql-config:/etc/postgresql/ postgresql-config:/etc/patroni/ postgresql-config:/etc/patroni_env.conf
    postgresql-config:/etc/postgresql-common/ etcd-config:/etc/default/etcd
    pgbackrest-config:/etc/pgbackrest/ pgbackrest-config:/etc/pgbackrest.conf
    nrpe-config:/etc/nagios/
  )
  ;;
monitoring)
  AUDIT_WATCHES+=(nagios-config:/etc/nagios4/ etcd-config:/etc/default/etcd apache-config:/etc/apache2/)
  ;;
esac

# The unprivileged user Session Manager runs every shell as (the account's preferences set runAsEnabled
# and this runAsDefaultUser): no sudo, no password, no group beyond its own. With run-as on, the agent
# does not create its own ssm-user, whom it would give sudo without a password.
SESSION_USER=hipaa-session

# Where the hardening writes its own settings; check.sh reads them back.
SYSCTL_FILE=/etc/sysctl.d/90-hipaa.conf
MODPROBE_FILE=/etc/modprobe.d/hipaa.conf
AUDIT_RULES=/etc/audit/rules.d/hipaa.rules
APT_PERIODIC=/etc/apt/apt.conf.d/99hipaa-no-periodic
CLOUD_CFG=/etc/cloud/cloud.cfg.d/90-hipaa-hardening.cfg
CHRONY_CONF=/etc/chrony/conf.d/aws-time-sync.conf
# The Amazon Time Sync Service, reached on the link-local address from every subnet, egress or not (EC2
# user guide, "Set the time for your Linux instance").
TIME_SERVER=169.254.169.123

# The pinned packages of this role (file "packages" beside the scripts): PINNED[package]=release pattern.
declare -A PINNED=()
read_packages() {
  local role pkg release
  while read -r role pkg release; do
    case $role in '' | '#'*) continue ;; esac
    if [ "$role" = all ] || [ "$role" = "$ROLE" ]; then
      PINNED[$pkg]=$release
    fi
  done < "$1"
}
