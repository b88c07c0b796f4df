#!/usr/bin/env bash
# agents.sh STEP: the image build's steps that only a build instance in AWS can take.
#   https-mirror  points apt at Debian's mirror over HTTPS: the build's security group lets only HTTPS out.
#   cloudwatch    installs the CloudWatch agent from the region's bucket, after checking its signature
#                 against AWS's key, whose fingerprint is pinned here.
# The Systems Manager agent is installed before either, by the recipe's user data (pipelines.go).
set -euo pipefail

# The CloudWatch agent's signing key ("Verify the signature of the CloudWatch agent package", Amazon
# CloudWatch User Guide): key 3B789C72.
CLOUDWATCH_KEY_FINGERPRINT=937616F3450B7D806CBD9725D58167303B789C72

# Debian's EC2 images already name https://deb.debian.org (their deb822 sources read the mirror from
# /etc/apt/mirrors/, which cloud-init points at cdn-aws.deb.debian.org); this turns any http:// source
# into HTTPS, security.debian.org into deb.debian.org's debian-security (which deb.debian.org serves over
# HTTPS), and refuses a source that still is not.
https_mirror() {
  local f files=() plain
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources /etc/apt/mirrors/*.list; do
    [ -f "$f" ] && files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || { echo "agents.sh: no apt sources found" >&2; exit 1; }
  sed -i -E -e 's#http://security\.debian\.org/debian-security#https://deb.debian.org/debian-security#g' \
    -e 's#http://(([a-z0-9-]+\.)*debian\.org)#https://\1#g' "${files[@]}"
  if plain=$(grep -El '^[^#]*http://' "${files[@]}"); then
    echo "agents.sh: these apt sources are not HTTPS, which is all the build may reach: $plain" >&2
    exit 1
  fi
  echo "agents.sh: apt's sources are HTTPS: ${files[*]}"
}

# imds PATH reads the instance metadata with an IMDSv2 token (the build's instances require one).
imds() {
  local token
  token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token)
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}

cloudwatch() {
  local region base work status
  region=$(imds meta-data/placement/region)
  base="https://amazoncloudwatch-agent-$region.s3.$region.amazonaws.com"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  for f in assets/amazon-cloudwatch-agent.gpg debian/amd64/latest/amazon-cloudwatch-agent.deb debian/amd64/latest/amazon-cloudwatch-agent.deb.sig; do
    curl -fsSL --retry 5 -o "$work/${f##*/}" "$base/$f"
  done
  export GNUPGHOME="$work/gnupg"
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --import "$work/amazon-cloudwatch-agent.gpg"
  # VALIDSIG's last field is the primary key's fingerprint: the signature must be good and by that key.
  status=$(gpg --batch --status-fd 1 --verify "$work/amazon-cloudwatch-agent.deb.sig" "$work/amazon-cloudwatch-agent.deb" 2> /dev/null || true)
  if ! grep -Eq "^\[GNUPG:\] VALIDSIG .* $CLOUDWATCH_KEY_FINGERPRINT\$" <<< "$status"; then
    echo "agents.sh: the CloudWatch agent's signature is not a good one by key $CLOUDWATCH_KEY_FINGERPRINT; not installing it" >&2
    exit 1
  fi
  dpkg -i "$work/amazon-cloudwatch-agent.deb"
  echo "agents.sh: amazon-cloudwatch-agent $(dpkg-query -W -f='${Version}' amazon-cloudwatch-agent), signature checked"
}

case ${1:-} in
https-mirror) https_mirror ;;
cloudwatch) cloudwatch ;;
*)
  echo "usage: agents.sh https-mirror|cloudwatch" >&2
  exit 2
  ;;
esac
