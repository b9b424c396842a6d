#!/usr/bin/env bash
# Per-call cost of the JNA binding against the C floor, both on the same libnvidia-ml, in one run.
#
# Usage: jmh-benchmarks/run-binding-bench.sh [LIBRARY]
#   LIBRARY  a real libnvidia-ml.so.1; without it, the fake built from nvml-bindings/src/test/c
#            answering the p1000 scenario.
# Environment:
#   JMH_ARGS          JMH options (default: -f 1 -wi 3 -i 5 -w 1s -r 1s); add -prof gc for B/op
#   FLOOR_ITERATIONS  calls per C round (default 1000000 on the fake, 200000 on a real library)
#   FLOOR_ROUNDS      C rounds, the median is reported (default 5)
#   SKIP_BUILD=1      reuse jmh-benchmarks/target/benchmarks.jar
#   JAVA              the java to run (default: java on the PATH)
# Prints: call, C function, C floor ns/op, JNA direct ns/op, overhead ns, ratio, typed ns/op.
# Results are kept in jmh-benchmarks/target/binding-bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/jmh-benchmarks/target/binding-bench
mkdir -p "$out"
java=${JAVA:-java}

if [ $# -ge 1 ]; then
  library=$(realpath "$1")
  kind=real
  iterations=${FLOOR_ITERATIONS:-200000}
else
  bash "$root/nvml-bindings/src/test/c/build.sh" "$out/fake" >/dev/null
  library=$out/fake/libnvidia-ml.so.1
  export FAKE_NVML_SCENARIO=$root/nvml-bindings/src/test/resources/fake-nvml/p1000.scenario
  kind=fake
  iterations=${FLOOR_ITERATIONS:-1000000}
fi
[ -f "$library" ] || { echo "no library at $library (is gcc installed?)" >&2; exit 1; }
export GPU_AGENT_NVML_LIBRARY=$library

gcc -std=c11 -Wall -Wextra -Werror -O2 -o "$out/nvml_floor" "$root/jmh-benchmarks/src/main/c/nvml_floor.c" -ldl
jar=$root/jmh-benchmarks/target/benchmarks.jar
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$jar" ]; then
  (cd "$root" && mvn -B -q package -pl jmh-benchmarks -am -DskipTests)
fi

echo "library: $library ($kind)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
"$java" -version 2>&1 | head -1

"$out/nvml_floor" "$library" "$iterations" "${FLOOR_ROUNDS:-5}" | tee "$out/floor.txt"
# shellcheck disable=SC2086
"$java" -jar "$jar" 'org.gpuagent.bench.nvml.NvmlCallBenchmark' ${JMH_ARGS:--f 1 -wi 3 -i 5 -w 1s -r 1s} \
  -rf csv -rff "$out/jmh.csv" >"$out/jmh.log"
grep -E '^# NVML|^Benchmark|NvmlCallBenchmark\.' "$out/jmh.log" || true

echo
awk -v kind="$kind" '
  FNR == NR {                       # floor.txt
    call = ""; fn = ""; ns = ""
    for (i = 1; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "call") call = kv[2]
      if (kv[1] == "function") fn = kv[2]
      if (kv[1] == "ns_per_op") ns = kv[2]
      if (kv[1] == "calls_per_op") per[call] = kv[2]
    }
    floor[call] = ns; func_[call] = fn; order[++n] = call
    next
  }
  FNR > 1 {                         # jmh.csv
    gsub(/"/, "", $1); name = $1; sub(/.*NvmlCallBenchmark\./, "", name)
    score = $5
    if (name ~ /:gc.alloc.rate.norm$/) { sub(/:.*/, "", name); alloc[name] = score; next }
    if (name ~ /:/) next
    if (name ~ /Direct$/) { sub(/Direct$/, "", name); direct[name] = score }
    if (name ~ /Typed$/)  { sub(/Typed$/, "", name); typed[name] = score }
  }
  END {
    printf "%-17s %-41s %10s %10s %10s %7s %10s\n", "call", "C function (calls/op)", "C floor", "JNA direct", "overhead", "ratio", "typed"
    printf "%-17s %-41s %10s %10s %10s %7s %10s\n", "", "", "ns/op", "ns/op", "ns/op", "", "ns/op"
    worst = 0
    for (i = 1; i <= n; i++) {
      c = order[i]
      over = direct[c] - floor[c]
      if (over / per[c] > worst) worst = over / per[c]
      t = (c in typed) ? sprintf("%10.1f", typed[c]) : sprintf("%10s", "-")
      printf "%-17s %-41s %10.1f %10.1f %10.1f %7.2f %s", c, func_[c] " (" per[c] ")", floor[c], direct[c], over, direct[c] / floor[c], t
      if ((c "Typed") in alloc) printf "  (%s B/op)", alloc[c "Typed"]
      printf "\n"
    }
    printf "\nerrorString is a table lookup in the library: its overhead is what JNA direct mapping costs per call by itself.\n"
    printf "worst JNA overhead per native call: %.1f ns", worst
    if (kind == "fake") printf " (target on the fake library: <= 150 ns): %s\n", worst <= 150 ? "met" : "NOT met"
    else printf "\ntargets on real NVML: utilization and temperature <= 1.6x the floor, memory <= 1.1x\n"
  }
' FS='[ ]+' "$out/floor.txt" FS=',' "$out/jmh.csv" | tee "$out/summary.txt"
