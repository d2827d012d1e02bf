#!/usr/bin/env bash
# Installs what faultline's local clusters need, when it is missing (Debian 12, as root).
# Safe to run again: it does nothing when everything is there. With --tests it also installs
# what only the tests need: headless Chromium, which opens a real run's report.html.
set -euo pipefail
packages=(mariadb-server galera-4 rsync iptables iproute2 socat libfaketime faketime procps etcd-server)
if [ "${1:-}" = --tests ]; then
  packages+=(chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "faultline needs: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q
apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
