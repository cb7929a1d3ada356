#!/usr/bin/env bash
# The checks that need a GPU, as one script for a lent device machine (the device tool:
# a bare image with CUDA, PyTorch, CuPy, numba, pybind11, scikit-build-core, CMake,
# ninja, pytest and pytest-benchmark, Python 3.12, no network; 15 minutes of device
# time a session, all tries together):
#
#   here:   tools/gpu_check.sh fetch   # the wheels the image lacks, into .whl/ (git-ignored)
#   there:  tools/gpu_check.sh run     # a device run with carry ['.whl'] and timeout_s 570
#
# `run` installs the carried wheels into /tmp/site, builds fastcodec for the image's
# Python, then runs, each under its own limit, tests/gpu (parity with the cpp backend
# on torch and CuPy arrays, streams, empty batches, bad input, graph capture: the one
# that must pass), benchmarks/bench_cuda.py (against the memory floor, pure torch and
# MMPose on the CPU) and benchmarks/bench_device_targets.py (training throughput),
# with their logs and benchmark JSON in $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."

# What fastcodec's GPU tests and benchmarks import that the image does not hold: the
# MMPose 1.3.2 oracle with what its codecs import, and pycocotools for the training run.
WHEELS="mmpose==1.3.2 mmengine==0.10.7 munkres==1.1.4 addict==2.4.0 yapf==0.43.0
        termcolor==3.3.0 platformdirs==4.14.9 pycocotools==2.0.11"

case "${1:-}" in
fetch)
  exclude="$(git rev-parse --git-path info/exclude)"
  grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
  rm -rf .whl && mkdir -p .whl
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl $WHEELS && ls .whl
  ;;
run)
  OUT=${OUT:-/tmp/gpu_check}
  mkdir -p "$OUT"
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
  start=$SECONDS
  if ! python3 -m pip install -q --no-build-isolation --no-deps -Cbuild-dir=build/gpu -e . \
      > "$OUT/build.log" 2>&1; then
    tail -40 "$OUT/build.log"
    exit 1
  fi
  echo "built in $((SECONDS - start)) s"
  timeout 240 python3 -m pytest tests/gpu -q -p no:cacheprovider -rs 2>&1 \
    | tee "$OUT/tests_gpu.log" | tail -15
  timeout 150 python3 -m pytest benchmarks/bench_cuda.py -q -p no:cacheprovider \
    --benchmark-json="$OUT/bench_cuda.json" > "$OUT/bench_cuda.log" 2>&1
  tail -3 "$OUT/bench_cuda.log"
  timeout 90 python3 -m pytest benchmarks/bench_device_targets.py -q -p no:cacheprovider \
    --benchmark-json="$OUT/bench_device_targets.json" > "$OUT/bench_device_targets.log" 2>&1
  tail -3 "$OUT/bench_device_targets.log"
  echo "done in $((SECONDS - start)) s"
  ;;
*)
  echo "usage: tools/gpu_check.sh fetch | run" >&2
  exit 2
  ;;
esac
