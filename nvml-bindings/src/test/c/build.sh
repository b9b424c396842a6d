#!/usr/bin/env bash
# Builds the fake libnvidia-ml (fake_nvml.c) in three variants:
#   OUT/libnvidia-ml.so.1        a 580-like driver: every symbol the binding uses
#   OUT/r470/libnvidia-ml.so.1   a 470-like driver: no _v2 memory, no _v3 process lists, no
#                                clocks-event-reasons call, no energy counter
#   OUT/v1/libnvidia-ml.so.1     only the oldest form of every versioned call (no _v2/_v3)
# The library has no SONAME on purpose: a later dlopen("libnvidia-ml.so.1") by soname must never
# resolve to this fake just because it is already loaded.
# Without gcc it says so and exits 0; the tests that need the fake then skip (fail under CI=true).
# Usage: build.sh OUT_DIR
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cc=${CC:-gcc}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fake libnvidia-ml: $cc not found; tests that need the fake library will skip (and fail under CI=true)"
  exit 0
fi
src_dir=$(cd "$(dirname "$0")" && pwd)
src=$src_dir/fake_nvml.c

build() {
  local dest=$1
  shift
  if [ "$dest" -nt "$src" ] && [ "$dest" -nt "$0" ]; then
    return
  fi
  mkdir -p "$(dirname "$dest")"
  # Build beside the target and rename: a JVM may still have the old file mapped.
  "$cc" -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -pthread -fvisibility=hidden "$@" \
    -o "$dest.tmp.$$" "$src"
  mv -f "$dest.tmp.$$" "$dest"
  echo "fake libnvidia-ml: built $dest"
}

r470=(-DFAKE_NVML_NO_MEMORY_V2 -DFAKE_NVML_NO_PROCESSES_V3 -DFAKE_NVML_NO_CLOCKS_EVENT_REASONS -DFAKE_NVML_NO_ENERGY)
build "$out/libnvidia-ml.so.1"
build "$out/r470/libnvidia-ml.so.1" "${r470[@]}"
build "$out/v1/libnvidia-ml.so.1" "${r470[@]}" -DFAKE_NVML_V1_ONLY
