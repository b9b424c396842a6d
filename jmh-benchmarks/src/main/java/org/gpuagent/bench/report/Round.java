package org.gpuagent.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one round of {@code bench/report} left in its directory: {@code jmh.csv} (JMH's CSV),
 * {@code floor.txt} (the C floor's lines), {@code cli.csv} ({@code what,ms} per run) and
 * {@code capacity.csv} (the agent capacity steps). Missing files read as empty: a figure without
 * data is reported as missing, not invented.
 */
record Round(Path dir, Map<String, JmhRow> jmh, Map<String, FloorRow> floor, Map<String, List<Double>> cli,
        List<CapacityRow> capacity) {

    /** One JMH result row; {@code name} is the benchmark's short name plus its parameters. */
    record JmhRow(String name, String mode, int threads, double score, String unit) {
    }

    record FloorRow(String call, double nsPerOp, int callsPerOp) {
    }

    record CapacityRow(String benchmark, int clients, double p50Ms, double p99Ms, double rate, long rssKiB) {
    }

    static Round read(Path dir) throws IOException {
        return new Round(dir, jmh(dir.resolve("jmh.csv")), floor(dir.resolve("floor.txt")), cli(dir.resolve("cli.csv")),
                capacity(dir.resolve("capacity.csv")));
    }

    Optional<JmhRow> row(String name) {
        return Optional.ofNullable(jmh.get(name));
    }

    static Map<String, JmhRow> jmh(Path csv) throws IOException {
        Map<String, JmhRow> out = new LinkedHashMap<>();
        if (!Files.exists(csv)) {
            return out;
        }
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            return out;
        }
        List<String> header = fields(lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            List<String> f = fields(line);
            if (f.size() < 7) {
                continue;
            }
            StringBuilder name = new StringBuilder(shortName(f.get(0)));
            List<String> params = new ArrayList<>();
            for (int i = 7; i < f.size() && i < header.size(); i++) {
                if (!f.get(i).isEmpty()) {
                    params.add(header.get(i).replace("Param: ", "") + "=" + f.get(i));
                }
            }
            if (!params.isEmpty()) {
                int colon = name.indexOf(":");
                String suffix = colon < 0 ? "" : name.substring(colon);
                if (colon >= 0) {
                    name.setLength(colon);
                }
                name.append('[').append(String.join(",", params)).append(']').append(suffix);
            }
            out.put(name.toString(), new JmhRow(name.toString(), f.get(1), Integer.parseInt(f.get(2)),
                    Double.parseDouble(f.get(4)), f.get(6)));
        }
        return out;
    }

    /** "org.gpuagent.bench.nvml.NvmlCallBenchmark.memoryDirect" becomes "NvmlCallBenchmark.memoryDirect". */
    static String shortName(String full) {
        int colon = full.indexOf(':');
        String main = colon < 0 ? full : full.substring(0, colon);
        String suffix = colon < 0 ? "" : full.substring(colon);
        int method = main.lastIndexOf('.');
        int cls = method <= 0 ? -1 : main.lastIndexOf('.', method - 1);
        return main.substring(cls + 1) + suffix;
    }

    /** Splits one CSV line of JMH's output (fields quoted when text, no quotes inside them). */
    static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    static Map<String, FloorRow> floor(Path txt) throws IOException {
        Map<String, FloorRow> out = new LinkedHashMap<>();
        if (!Files.exists(txt)) {
            return out;
        }
        for (String line : Files.readAllLines(txt, StandardCharsets.UTF_8)) {
            if (!line.startsWith("floor ")) {
                continue;
            }
            Map<String, String> kv = new LinkedHashMap<>();
            for (String part : line.substring(6).trim().split("\\s+")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    kv.put(part.substring(0, eq), part.substring(eq + 1));
                }
            }
            out.put(kv.get("call"), new FloorRow(kv.get("call"), Double.parseDouble(kv.get("ns_per_op")),
                    Integer.parseInt(kv.getOrDefault("calls_per_op", "1"))));
        }
        return out;
    }

    static Map<String, List<Double>> cli(Path csv) throws IOException {
        Map<String, List<Double>> out = new LinkedHashMap<>();
        if (!Files.exists(csv)) {
            return out;
        }
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = line.split(",");
            if (f.length == 2 && !f[0].equals("what")) {
                out.computeIfAbsent(f[0], k -> new ArrayList<>()).add(Double.parseDouble(f[1]));
            }
        }
        return out;
    }

    static List<CapacityRow> capacity(Path csv) throws IOException {
        List<CapacityRow> out = new ArrayList<>();
        if (!Files.exists(csv)) {
            return out;
        }
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = line.split(",");
            if (f.length == 6 && !f[0].equals("benchmark")) {
                out.add(new CapacityRow(f[0], Integer.parseInt(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                        Double.parseDouble(f[4]), Long.parseLong(f[5])));
            }
        }
        return out;
    }
}
