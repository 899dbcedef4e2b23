#!/bin/sh
# Make a base image from Debian's own packages (no registry needed): debootstrap a minimal bookworm with
# python3 and venv, then import it into podman as localhost/debian-python:bookworm.
#   sudo docker/build-base-image.sh [IMAGE_NAME] [MIRROR]
set -eu
image="${1:-localhost/debian-python:bookworm}"
mirror="${2:-http://deb.debian.org/debian}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$root" "$mirror"
# An image needs no package lists, docs or caches.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$image"
podman image inspect "$image" --format '{{.Size}}' | awk -v i="$image" '{printf "%s: %.0f MB\n", i, $1/1e6}'
