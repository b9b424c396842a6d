package org.gpuagent.exporter;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The samples of a Prometheus text exposition: series as written ({@code name{labels}}) to value. */
final class Exposition {
    final Map<String, Double> samples = new LinkedHashMap<>();
    final Map<String, String> help = new LinkedHashMap<>();
    final String text;

    private Exposition(String text) {
        this.text = text;
    }

    static Exposition parse(String text) {
        Exposition e = new Exposition(text);
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                String rest = line.substring(7);
                int sp = rest.indexOf(' ');
                e.help.put(rest.substring(0, sp), rest.substring(sp + 1));
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            int sp = line.lastIndexOf(' ');
            e.samples.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
        }
        return e;
    }

    /** The value of the series, failing when it is absent. */
    double value(String series) {
        Double v = samples.get(series);
        if (v == null) {
            throw new AssertionError("no series " + series + " in:\n" + text);
        }
        return v;
    }

    boolean has(String series) {
        return samples.containsKey(series);
    }

    /** Whether any series of the metric {@code name} (exact sample name) is present. */
    boolean hasMetric(String name) {
        return samples.keySet().stream().anyMatch(s -> s.equals(name) || s.startsWith(name + "{"));
    }

    /** Distinct sample names (the part before the labels). */
    Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (String s : samples.keySet()) {
            int brace = s.indexOf('{');
            names.add(brace < 0 ? s : s.substring(0, brace));
        }
        return names;
    }
}
