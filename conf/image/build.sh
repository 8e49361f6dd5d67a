#!/bin/sh
# make image: the vigil OCI image from Debian packages only (no registry
# pull): mmdebstrap makes a bookworm root with the locally built vigil .deb
# and tini (PID 1: forwards SIGTERM, reaps orphans) over conf/image/entrypoint
# (vigild, then a wait for its keeper), and podman
# imports it as localhost/vigil:VERSION.  Usage: build.sh DEB OUTDIR
set -eu
deb=$(readlink -f "$1")
out=$2
version=$(dpkg-deb -f "$deb" Version | sed 's/-.*//')
mkdir -p "$out"
rm -f "$out/rootfs.tar"
# the package's postinst made a key: an image must not carry one (every
# pod mounts the cluster's key from a Secret)
export VIGIL_DEB="$deb"
# vigild under a shell that outlives its keeper (entrypoint: tini's child)
VIGIL_ENTRY="$(dirname "$(readlink -f "$0")")/entrypoint"
export VIGIL_ENTRY
# the package's dependencies by name (no versions, first alternatives),
# then the local .deb with dpkg inside the root (the essential variant has
# no apt in it)
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
    sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' | grep . |
    paste -sd, -)
mmdebstrap --variant=essential --include="tini,$deps" \
    --customize-hook='cp "$VIGIL_DEB" "$1/tmp/vigil.deb"' \
    --customize-hook='chroot "$1" dpkg -i /tmp/vigil.deb' \
    --customize-hook='rm -f "$1/tmp/vigil.deb" "$1/etc/vigil/auth.key"' \
    --customize-hook='install -D -m 0755 "$VIGIL_ENTRY" "$1/usr/local/sbin/vigild-entrypoint"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/*' \
    bookworm "$out/rootfs.tar"
podman import \
    --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/sbin/vigild-entrypoint"]' \
    --change 'CMD ["-f", "/etc/vigil/vigil.conf"]' \
    --change 'STOPSIGNAL SIGTERM' \
    --change "LABEL org.opencontainers.image.version=$version" \
    "$out/rootfs.tar" "localhost/vigil:$version"
podman image inspect --format '{{.Id}} {{.Size}}' "localhost/vigil:$version"
