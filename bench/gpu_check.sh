#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): train, export fp16, serve and bench on CUDA, one JSON of figures;
# without CUDA, the CPU twin of each step. Usage: bench/gpu_check.sh [OUT_DIR] [options of gpu_check.py]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/gpu_check}"
shift || true
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || { make .venv/.dev >/dev/null; }
exec "$PYTHON" bench/gpu_check.py --out "$OUT" "$@"
