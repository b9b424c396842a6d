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
#   FLOOR_BINARY      a prebuilt nvml_floor to use instead of compiling it (for a machine without gcc)
#   BENCH_OUT         where the results go (default jmh-benchmarks/target/binding-bench)
# Prints per call: the C floor (median of rounds), JNA direct (JMH mean), their difference and
# ratio, the typed API (JMH mean), and the same difference taken between the best C round and the
# best JMH iteration, which a busy machine disturbs least.
# On a real library it also checks the targets, one line each:
#   target call=<call> ratio=<JNA direct / C floor> limit=<x> met|NOT-met
# Results are kept in jmh-benchmarks/target/binding-bench/ (or BENCH_OUT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$root/jmh-benchmarks/target/binding-bench}
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

if [ -n "${FLOOR_BINARY:-}" ]; then
  [ -x "$FLOOR_BINARY" ] || { echo "FLOOR_BINARY=$FLOOR_BINARY is not an executable file" >&2; exit 1; }
  floor=$FLOOR_BINARY
else
  gcc -std=c11 -Wall -Wextra -Werror -O2 -o "$out/nvml_floor" "$root/jmh-benchmarks/src/main/c/nvml_floor.c" -ldl
  floor=$out/nvml_floor
fi
jar=$root/jmh-benchmarks/target/benchmarks.jar
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$jar" ]; then
  (cd "$root" && mvn -B -q package -pl jmh-benchmarks -am -DskipTests)
fi

echo "library: $library ($kind)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
"$java" -version 2>&1 | head -1

"$floor" "$library" "$iterations" "${FLOOR_ROUNDS:-5}" | tee "$out/floor.txt"
# shellcheck disable=SC2086
"$java" -jar "$jar" 'org.gpuagent.bench.nvml.NvmlCallBenchmark' ${JMH_ARGS:--f 1 -wi 3 -i 5 -w 1s -r 1s} \
  -rf csv -rff "$out/jmh.csv" >"$out/jmh.log" 2>&1 || { tail -20 "$out/jmh.log" >&2; exit 1; }
grep -E '^# NVML|^Benchmark|NvmlCallBenchmark\.' "$out/jmh.log" || true

echo
awk -v kind="$kind" '
  FILENAME ~ /floor.txt$/ {
    call = ""
    for (i = 1; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "call") { call = kv[2]; order[++n] = call }
      if (kv[1] == "function") func_[call] = kv[2]
      if (kv[1] == "ns_per_op") floor[call] = kv[2]
      if (kv[1] == "ns_best") floorBest[call] = kv[2]
      if (kv[1] == "calls_per_op") per[call] = kv[2]
    }
    next
  }
  FILENAME ~ /jmh.log$/ {          # best iteration of each benchmark
    if ($0 ~ /^# Benchmark: /) { bench = $3; sub(/.*NvmlCallBenchmark\./, "", bench); next }
    if ($1 == "Iteration" && bench != "") {
      v = $3 + 0
      if (!(bench in best) || v < best[bench]) best[bench] = v
    }
    next
  }
  FNR > 1 {                         # jmh.csv: means
    gsub(/"/, "", $1); name = $1; sub(/.*NvmlCallBenchmark\./, "", name)
    if (name ~ /:gc.alloc.rate.norm$/) { sub(/:.*/, "", name); alloc[name] = $5; next }
    if (name ~ /:/) next
    if (name ~ /Direct$/) { sub(/Direct$/, "", name); direct[name] = $5 }
    if (name ~ /Typed$/)  { sub(/Typed$/, "", name); typed[name] = $5 }
  }
  END {
    printf "%-17s %-43s %8s %8s %8s %6s %8s %10s\n", "call", "C function (calls/op)", "C floor", "JNA", "overhead", "ratio", "typed", "best-case"
    printf "%-17s %-43s %8s %8s %8s %6s %8s %10s\n", "", "", "median", "direct", "", "", "", "overhead"
    worst = 0; worstBest = 0
    for (i = 1; i <= n; i++) {
      c = order[i]
      over = direct[c] - floor[c]
      overBest = best[c "Direct"] - floorBest[c]
      if (over / per[c] > worst) worst = over / per[c]
      if (overBest / per[c] > worstBest) worstBest = overBest / per[c]
      t = (c in typed) ? sprintf("%8.1f", typed[c]) : sprintf("%8s", "-")
      printf "%-17s %-43s %8.1f %8.1f %8.1f %6.2f %s %10.1f", c, func_[c] " (" per[c] ")", floor[c], direct[c], over, direct[c] / floor[c], t, overBest
      if ((c "Typed") in alloc) printf "  typed allocates %.0f B/op", alloc[c "Typed"]
      printf "\n"
    }
    printf "(ns per op; JNA and typed are JMH means; best-case = best JMH iteration - best C round)\n"
    printf "errorString is a table lookup in the library: its overhead is what JNA direct mapping costs by itself.\n"
    printf "worst JNA overhead per native call: %.1f ns (means), %.1f ns (best case)", worst, worstBest
    if (kind == "fake") printf "; target on the fake library <= 150 ns: %s (means), %s (best case)\n", worst <= 150 ? "met" : "NOT met", worstBest <= 150 ? "met" : "NOT met"
    else {
      printf "\ntargets on real NVML: utilization and temperature <= 1.6x the floor, memory <= 1.1x (JNA direct mean / C median)\n"
      limit["utilization"] = 1.6; limit["temperature"] = 1.6; limit["memory"] = 1.1
      split("utilization temperature memory", checked, " ")
      for (i = 1; i <= 3; i++) {
        c = checked[i]
        if (!(c in direct) || !(c in floor) || floor[c] <= 0) { printf "target call=%s ratio=absent limit=%.1f NOT-met\n", c, limit[c]; continue }
        r = direct[c] / floor[c]
        printf "target call=%s ratio=%.2f limit=%.1f %s\n", c, r, limit[c], r <= limit[c] ? "met" : "NOT-met"
      }
    }
  }
' FS='[ ]+' "$out/floor.txt" FS='[ ]+' "$out/jmh.log" FS=',' "$out/jmh.csv" | tee "$out/summary.txt"
