# syntax=docker/dockerfile:1
# nerd images, one Dockerfile, three targets:
#   cpu   (default) the serving image: onnxruntime and OpenVINO, no torch, non-root, the default model
#   gpu   the serving image on a CUDA runtime base with onnxruntime-gpu
#   train training and export (torch, transformers, optimum)
#
#   docker build -t nerd:cpu .          # or: podman build --format docker (keeps the HEALTHCHECK) ...
#   docker build --target gpu -t nerd:gpu .
#   docker build --target train -t nerd:train .
#   docker save nerd:cpu | gzip > nerd-cpu.tar.gz       # what to carry into the closed network
#
# Build arguments:
#   BASE       a Debian/Ubuntu image with python3 (>= 3.11), python3-venv and pip. Default: python:3.11-slim.
#              Without a registry, make one from Debian packages: docker/build-base-image.sh.
#   CUDA_BASE  the gpu target's base: a CUDA + cuDNN runtime with python3 >= 3.11.
#   RAY=1      the cpu image with Ray too (nerd extract --engine ray on a KubeRay cluster).
#   OFFLINE=1  install docker/wheelhouse/requirements.txt (hash-pinned) with no index, so the build needs
#              no network: fill it first with `nerd wheelhouse docker/wheelhouse --no-model --extra cpu
#              --extra openvino` (gpu for the gpu target, export for train), on the target's platform.
#              Otherwise nerd is built from the source with pip's usual index.
ARG BASE=python:3.11-slim-bookworm
ARG CUDA_BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

# ---- the project's source, without data, models or caches (see .dockerignore) ----
FROM ${BASE} AS source
COPY pyproject.toml README.md /src/
COPY nerd /src/nerd
COPY annotation /src/annotation
COPY training /src/training
COPY tagging /src/tagging
COPY export /src/export
COPY service /src/service
COPY evaluation /src/evaluation
COPY experiments /src/experiments
COPY evolution /src/evolution
COPY pseudo_labels /src/pseudo_labels
COPY review /src/review
COPY extraction /src/extraction
COPY cli /src/cli
COPY docker/wheelhouse /wheels

# ---- a virtual environment with nerd and one runtime, built where pip and compilers may run ----
FROM ${BASE} AS cpu-venv
ARG OFFLINE=
# RAY=1 adds the ray extra: nerd extract --engine ray, the image of deploy/kubernetes/ray's RayJob.
ARG RAY=
COPY --from=source /src /src
COPY --from=source /wheels /wheels
RUN python3 -m venv /opt/nerd \
 && if [ -n "$OFFLINE" ]; then \
      /opt/nerd/bin/pip install --no-cache-dir --no-index --find-links /wheels --require-hashes \
        -r /wheels/requirements.txt; \
    else /opt/nerd/bin/pip install --no-cache-dir "/src[cpu,openvino${RAY:+,ray}]"; fi \
 && /opt/nerd/bin/python -c "import onnxruntime, openvino, nerd.service.app" \
 && ! /opt/nerd/bin/python -c "import torch" 2>/dev/null

# ---- the CPU serving image ----
FROM ${BASE} AS cpu
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin nerd
COPY --from=cpu-venv /opt/nerd /opt/nerd
COPY models/en-conll-minilm-int8 /models/default
COPY docker/entrypoint.sh /usr/local/bin/nerd-entrypoint
ENV PATH=/opt/nerd/bin:$PATH \
    NERD_MODEL_DIR=/models/default \
    NERD_PORT=8000 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Models are read-only: mount another bundle over /models/default (read-only) to serve it instead.
VOLUME ["/models"]
USER nerd
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('NERD_PORT', '8000')}/readyz\", timeout=4)"]
ENTRYPOINT ["nerd-entrypoint"]
CMD ["serve"]

# ---- the GPU serving image: same layout on a CUDA runtime ----
FROM ${CUDA_BASE} AS gpu-venv
ARG OFFLINE=
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY --from=source /src /src
COPY --from=source /wheels /wheels
RUN python3 -m venv /opt/nerd \
 && if [ -n "$OFFLINE" ]; then \
      /opt/nerd/bin/pip install --no-cache-dir --no-index --find-links /wheels --require-hashes \
        -r /wheels/requirements.txt; \
    else /opt/nerd/bin/pip install --no-cache-dir "/src[gpu]"; fi

FROM ${CUDA_BASE} AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin nerd
COPY --from=gpu-venv /opt/nerd /opt/nerd
COPY models/en-conll-minilm-int8 /models/default
COPY docker/entrypoint.sh /usr/local/bin/nerd-entrypoint
ENV PATH=/opt/nerd/bin:$PATH NERD_MODEL_DIR=/models/default NERD_PORT=8000 NERD_DEVICE=cuda \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
VOLUME ["/models"]
USER nerd
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('NERD_PORT', '8000')}/readyz\", timeout=4)"]
ENTRYPOINT ["nerd-entrypoint"]
CMD ["serve"]

# ---- training and export: torch (CPU wheels unless TORCH_INDEX_URL points at CUDA ones) ----
FROM ${BASE} AS train
ARG OFFLINE=
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY --from=source /src /src
COPY --from=source /wheels /wheels
RUN python3 -m venv /opt/nerd \
 && if [ -n "$OFFLINE" ]; then \
      /opt/nerd/bin/pip install --no-cache-dir --no-index --find-links /wheels --require-hashes \
        -r /wheels/requirements.txt; \
    else /opt/nerd/bin/pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" "/src[export]"; fi \
 && useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin nerd
COPY docker/entrypoint.sh /usr/local/bin/nerd-entrypoint
ENV PATH=/opt/nerd/bin:$PATH HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
USER nerd
WORKDIR /work
ENTRYPOINT ["nerd-entrypoint"]
CMD ["--help"]
