#!/usr/bin/env bash
# install.sh ROLE...: installs the packages of the host image of each ROLE (db, monitoring) at the releases
# pinned in the file "packages" beside this script, and pins them there with apt preferences, so that a
# later upgrade (Patch Manager's) takes Debian's updates of the same release and never another release.
# Run as root on the image's build instance, and by .ci/host-root in the root the tests boot. It fails,
# naming the package, when the mirror has no version of a pinned release.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
  echo "usage: install.sh ROLE... (db, monitoring)" >&2
  exit 2
fi
ROLE=$1
# shellcheck source-path=SCRIPTDIR source=image.sh
. "$here/image.sh"
for ROLE in "$@"; do
  check_role "$ROLE"
  read_packages "$here/packages"
done
mapfile -t names <<< "$(printf '%s\n' "${!PINNED[@]}" | sort)"

# Priority 1001 keeps the pinned release even where the mirror also has a newer one (apt_preferences(5)).
prefs=/etc/apt/preferences.d/hipaa-pins
{
  echo "# The host image's pinned releases (components/images/files/packages)."
  for p in "${names[@]}"; do
    printf '\nPackage: %s\nPin: version %s\nPin-Priority: 1001\n' "$p" "${PINNED[$p]}"
  done
} > "$prefs"

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
missing=()
for p in "${names[@]}"; do
  candidate=$(apt-cache policy "$p" | sed -n 's/^ *Candidate: //p')
  # shellcheck disable=SC2053 # the release is a pattern
  if [ -z "$candidate" ] || [ "$candidate" = "(none)" ] || [[ $candidate != ${PINNED[$p]} ]]; then
    missing+=("$p ${PINNED[$p]} (the mirror offers ${candidate:-nothing})")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install.sh: no version of these pinned releases can be installed; change the file packages or the mirror:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
apt-get install -y -q --no-install-recommends "${names[@]}"
for p in "${names[@]}"; do
  printf '%-30s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done
