# gominitron notebooks on a CUDA machine: Go, Jupyter, the GoNB kernel and
# the project, installed by kernel/install.sh (the script CI runs).
#
#   docker build -t gominitron .
#   docker run --gpus all -p 8888:8888 gominitron            # then open the printed URL (token auth on)
#
# XLA's CUDA PJRT plugin is not in the image; provide one of:
#   a) a JAX installation's plugin, mounted:
#        -v $SITE_PACKAGES/jax_plugins/xla_cuda13:/opt/pjrt:ro -e PJRT_PLUGIN_LIBRARY_PATH=/opt/pjrt
#   b) JAX inside the image: docker build --build-arg JAX_CUDA=1 -t gominitron .
#      (pip install "jax[cuda13]" into /opt/jax; found through GOMINITRON_PYTHON)
#   c) go-xla's installer into a mounted ~/.local/lib/go-xla:
#        go run github.com/gomlx/go-xla/cmd/pjrt_installer@latest -autoinstall
# At start kernel/jupyter.sh re-runs kernel/install.sh --register-only, which finds the plugin
# and writes GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so and GOPJRT_CUDA_CHECKS=0 into the
# kernel spec; without a plugin the kernel uses GOMLX_BACKEND=go (CPU).
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04

ARG GO_VERSION=1.26.8
ARG JAX_CUDA=
ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/go/bin:/root/go/bin:$PATH \
    GOMINITRON_PYTHON=/opt/jax/bin/python3

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl git build-essential python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz && go version
RUN if [ -n "$JAX_CUDA" ]; then python3 -m venv /opt/jax && /opt/jax/bin/pip install --no-cache-dir "jax[cuda13]"; fi

WORKDIR /opt/gominitron
COPY go.mod go.sum ./
# go.mod replaces github.com/gomlx/compute with the patched copy (third_party/compute/PATCHES.md).
COPY third_party ./third_party
RUN go mod download
COPY . .
RUN kernel/install.sh

EXPOSE 8888
WORKDIR /opt/gominitron/notebooks
CMD ["/opt/gominitron/kernel/jupyter.sh", "--ip=0.0.0.0", "--port=8888", "--allow-root"]
