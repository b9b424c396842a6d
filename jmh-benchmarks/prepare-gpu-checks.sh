#!/usr/bin/env bash
# Builds, on a machine with Maven, gcc and a JDK (no GPU needed), everything
# jmh-benchmarks/run-gpu-checks.sh needs on a GPU machine that has neither Maven, gcc nor Java;
# checks it by running that script here against the fake libraries (and, without a GPU here,
# for the no-GPU outcome); and prints what to carry and the command to run there.
#
# Usage: jmh-benchmarks/prepare-gpu-checks.sh [--skip-build]
#   --skip-build   reuse the Maven build outputs (the C binaries and the runtime are remade)
# Environment: MVN_ARGS (extra Maven options, e.g. -o), JLINK (default jlink on the PATH).
#
# Makes (all ignored by git):
#   jmh-benchmarks/target/benchmarks.jar                   JMH, the benchmarks, the CUDA probe
#   nvml-bindings/target/{classes,test-classes}            the contract test and what it tests
#   nvml-bindings/target/real-nvml-runner/                 JUnit console launcher, JNA
#   jmh-benchmarks/target/gpu-checks/nvml_floor            the C floor, prebuilt (x86-64, glibc)
#   jmh-benchmarks/target/gpu-checks-selftest/libcuda.so.1 a fake CUDA driver (self-test only; not carried)
#   .gpu-jre/                                              a jlink'ed Java runtime
# Exit status: 0 ready; 1 a build or check failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

skip_build=0
[ "${1:-}" = --skip-build ] && skip_build=1

say() { printf '\n== %s\n' "$*"; }
die() { echo "prepare-gpu-checks: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "this machine is $(uname -m); the GPU machine is x86-64: build there or on an x86-64 machine"
command -v gcc >/dev/null || die "gcc is needed (apt-get install gcc libc6-dev)"
jlink=${JLINK:-$(command -v jlink || true)}
[ -n "$jlink" ] || die "jlink is needed (a JDK 17+)"

if [ "$skip_build" = 0 ]; then
  say "Maven: benchmarks.jar, nvml-bindings classes and test classes, the console launcher"
  # shellcheck disable=SC2086
  mvn -B -q ${MVN_ARGS:-} package -pl jmh-benchmarks -am -DskipTests
fi
for f in jmh-benchmarks/target/benchmarks.jar nvml-bindings/target/classes nvml-bindings/target/test-classes \
    nvml-bindings/target/real-nvml-runner/junit-platform-console-standalone.jar \
    nvml-bindings/target/real-nvml-runner/jna.jar nvml-bindings/target/fake-nvml/libnvidia-ml.so.1; do
  [ -e "$f" ] || die "missing $f after the build"
done
listing=$(unzip -Z1 jmh-benchmarks/target/benchmarks.jar)
if grep -qE 'libJNvPTXCompiler|libJNvrtc' <<<"$listing"; then
  die "benchmarks.jar still holds the PTX-compiler or NVRTC natives: check the shade filter"
fi
grep -q '^lib/libJCudaDriver-.*-linux-x86_64\.so$' <<<"$listing" || die "benchmarks.jar lacks JCuda's driver-API natives"

say "C: the NVML floor and the fake libcuda.so.1"
mkdir -p jmh-benchmarks/target/gpu-checks jmh-benchmarks/target/gpu-checks-selftest
gcc -std=c11 -Wall -Wextra -Werror -O2 -o jmh-benchmarks/target/gpu-checks/nvml_floor \
  jmh-benchmarks/src/main/c/nvml_floor.c -ldl
gcc -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -Wl,-soname,libcuda.so.1 \
  -o jmh-benchmarks/target/gpu-checks-selftest/libcuda.so.1 jmh-benchmarks/src/test/c/fake_cuda.c -ldl
echo "nvml_floor needs glibc $(objdump -T jmh-benchmarks/target/gpu-checks/nvml_floor 2>/dev/null \
  | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1 | sed 's/GLIBC_//') or newer (this machine: $(ldd --version | head -1 | awk '{print $NF}'))"

say "Java runtime: .gpu-jre"
# The modules the agent and the benchmarks need (HTTP client and server, management, JNA's
# jdk.unsupported), plus java.instrument and jdk.attach, which JOL (SamplerCollectBenchmark's
# snapshot sizing) uses to size objects as on a full JDK. java.desktop
# (15 MB) stays out: run-gpu-checks.sh lets step c's forks skip class verification instead.
modules=java.base,java.logging,java.management,java.net.http,jdk.httpserver,jdk.unsupported,jdk.management,java.instrument,jdk.attach
rm -rf .gpu-jre
"$jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 --output .gpu-jre
.gpu-jre/bin/java -version 2>&1 | head -1
# .gitignore names it; a checkout whose .gitignore does not gets it in .git/info/exclude.
if ! git check-ignore -q .gpu-jre; then
  exclude=$(git rev-parse --git-path info/exclude)
  mkdir -p "$(dirname "$exclude")"
  echo '/.gpu-jre/' >>"$exclude"
fi
git check-ignore -q .gpu-jre || die ".gpu-jre is not ignored by git: it would travel as part of the tree"

say "Self-test: run-gpu-checks.sh against the fake libnvidia-ml and libcuda"
out=$(mktemp -d "${TMPDIR:-/tmp}/gpu-checks-selftest.XXXXXX")
set +e
GPU_CHECKS_SELF_TEST=1 OUT=$out JAVA=$root/.gpu-jre/bin/java bash jmh-benchmarks/run-gpu-checks.sh >"$out.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$out.log" >&2; die "self-test failed (exit $rc); results in $out"; }
echo "self-test passed ($(ls "$out" | wc -l) files in $out):"
sed 's/^/  /' "$out/summary.txt"

libraries=$(ldconfig -p 2>/dev/null || true)
if ! grep -q 'libnvidia-ml\.so\.1 ' <<<"$libraries"; then
  say "No-GPU run: run-gpu-checks.sh as it will run there, on this machine without a GPU"
  out=$(mktemp -d "${TMPDIR:-/tmp}/gpu-checks-nogpu.XXXXXX")
  set +e
  OUT=$out JAVA=$root/.gpu-jre/bin/java bash jmh-benchmarks/run-gpu-checks.sh >"$out.log" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 3 ] || { cat "$out.log" >&2; die "without a GPU run-gpu-checks.sh should exit 3 (no GPU), got $rc"; }
  echo "exit 3 (no GPU) as documented; summary:"
  sed 's/^/  /' "$out/summary.txt"
fi

say "What travels"
carry=(.gpu-jre jmh-benchmarks/target/benchmarks.jar jmh-benchmarks/target/gpu-checks
  nvml-bindings/target/classes nvml-bindings/target/test-classes nvml-bindings/target/real-nvml-runner)
total=0
for p in "${carry[@]}"; do
  git check-ignore -q "$p" || die "$p is not ignored by git; carry takes ignored paths only"
  b=$(du -sb "$p" | cut -f1)
  total=$((total + b))
  printf '  %-58s %6.1f MiB\n' "$p" "$(echo "$b" | awk '{print $1 / 1048576}')"
done
tree=$(git ls-files -z -co --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
total=$((total + tree))
printf '  %-58s %6.1f MiB\n' "working tree (tracked + untracked, not ignored)" "$(echo "$tree" | awk '{print $1 / 1048576}')"
printf '  %-58s %6.1f MiB of 64 MiB\n' "total" "$(echo "$total" | awk '{print $1 / 1048576}')"
[ "$total" -le $((60 * 1048576)) ] || die "over 60 MiB: too close to the device machine's 64 MiB limit"

json=$(printf '"%s",' "${carry[@]}")
cat <<EOF

== Ready. On the device machine, one call (expected about 4 minutes; the steps' caps add up to 9 minutes):
run:
  carry:     [${json%,}]
  timeout_s: 570
  command:   bash jmh-benchmarks/run-gpu-checks.sh
Results come back in \$OUT: summary.txt, env.txt, a-real-nvml.txt, b-binding-bench.txt,
c-sampler-collect.txt, d-cuda-probe.txt, e-ledger-decisions.txt, logs.tar.gz (8 files; at most 8
return). Exit status:
0 all passed, 1 a step failed, 3 no GPU there, 2 something missing (see summary.txt).
The carried paths are relative to the root of the checkout the device tool sends (the one the
session started in): run this script in that checkout, with this branch in it.
EOF
