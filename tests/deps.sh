#!/bin/sh
# Installs the Debian packages vigil's build and tests need, only those that
# are missing, so that a fresh Debian 12 machine needs nothing but
# `make check` (or `make demo`) as root.  Before installing it says what
# apt-get will install: the named packages and every dependency they pull.
set -eu

PKGS="gcc make pkg-config libmnl-dev libconfig-dev libsystemd-dev libev-dev
libsodium-dev libjson-c-dev libmicrohttpd-dev libcmocka-dev python3 python3-pytest clang
libclang-rt-14-dev iproute2 nftables spin"

# extra packages for one target (make deb) come as arguments
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: these packages are missing and only root can install them;" >&2
	echo "deps: run make as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: so libclang-rt-14-dev (libFuzzer, sanitizer
# runtimes) is named above, as clang only recommends it.
# shellcheck disable=SC2086
sim=$(apt-get install -s --no-install-recommends $missing)
all=$(echo "$sim" | sed -n 's/^Inst \([^ ]*\) .*/\1/p')
echo "deps: apt-get will install $(echo "$all" | grep -c .) packages" \
    "(these and their dependencies):"
echo "$all" | xargs | fold -s -w 76 | sed 's/^/deps:   /'
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
