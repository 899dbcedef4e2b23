#!/bin/sh
# nerd's container entrypoint: `serve` (the default) listens on every interface of the container, with
# the API key secret when one is mounted; anything else is passed to the nerd CLI unchanged.
set -eu

if [ "${1:-serve}" = "serve" ]; then
    [ "$#" -gt 0 ] && shift
    keys="${NERD_API_KEY_FILE:-/run/secrets/nerd_api_keys}"
    if [ -r "$keys" ]; then
        export NERD_API_KEY_FILE="$keys"
    else
        unset NERD_API_KEY_FILE
        echo "nerd-entrypoint: no API key file at $keys: /v1 is open to anyone who can reach the port" >&2
    fi
    exec nerd serve --host 0.0.0.0 --port "${NERD_PORT:-8000}" "$@"
fi
exec nerd "$@"
