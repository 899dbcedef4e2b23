#!/bin/sh
# Build the CPU serving image offline, start the server inside it, call /v1/entities from outside.
# Slow (minutes); not part of `make test`. Needs podman and buildah (chroot isolation works without a
# daemon or user namespaces) and nerd installed here (its wheelhouse command fills docker/wheelhouse).
#   docker/check-image.sh [BASE_IMAGE]     # default: build one from Debian packages first
set -eu
cd "$(dirname "$0")/.."
base="${1:-}"
nerd="${NERD:-.venv/bin/nerd}"
port="${PORT:-18080}"
image="${IMAGE:-localhost/nerd:cpu}"

started=$(date +%s)
if [ -z "$base" ]; then
    base=localhost/debian-python:bookworm
    podman image exists "$base" || docker/build-base-image.sh "$base"
fi
echo "== wheelhouse (host) for an offline build"
"$nerd" wheelhouse docker/wheelhouse --extra cpu --extra openvino --no-model
echo "== podman build --isolation chroot, base $base"
build_started=$(date +%s)
podman build --isolation chroot --format docker --build-arg BASE="$base" --build-arg OFFLINE=1 --target cpu -t "$image" .
build_seconds=$(( $(date +%s) - build_started ))

echo "== start the server inside the image (buildah run), call it from outside"
container=$(buildah from "$image")
server_log=$(mktemp)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    buildah rm "$container" >/dev/null 2>&1 || true
    rm -f "$server_log"
}
trap cleanup EXIT
buildah run --isolation chroot --user nerd --env NERD_PORT="$port" "$container" -- \
    nerd-entrypoint serve >"$server_log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" || { cat "$server_log"; exit 1; }
echo
answer=$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"text": "Angela Merkel met Emmanuel Macron in Paris."}' "http://127.0.0.1:$port/v1/entities")
echo "$answer"
echo "$answer" | grep -q '"label":"PER"' || { cat "$server_log"; echo "no PER entity in the answer" >&2; exit 1; }

echo "== the image's own HEALTHCHECK command, run inside it"
podman image inspect "$image" --format '{{json .Config.Healthcheck.Test}}' \
    | python3 -c 'import json, sys; test = json.load(sys.stdin); print("\0".join(test[1:]), end="")' \
    | xargs -0 buildah run --isolation chroot --user nerd --env NERD_PORT="$port" "$container" --
echo "healthcheck passed"

size=$(podman image inspect "$image" --format '{{.Size}}')
saved=$(podman save "$image" | gzip -1 | wc -c)
echo "== image $image: $((size / 1000000)) MB, docker save | gzip: $((saved / 1000000)) MB;" \
     "build $build_seconds s, whole check $(( $(date +%s) - started )) s"
