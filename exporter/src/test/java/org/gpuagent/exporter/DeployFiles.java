package org.gpuagent.exporter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The files under {@code deploy/} and the metric names their PromQL uses. */
final class DeployFiles {
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern BRACES = Pattern.compile("\\{[^{}]*}");
    private static final Pattern BRACKETS = Pattern.compile("\\[[^\\[\\]]*]");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{[^}]*}|\\$[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
    /** Names that look like metrics of ours, the JVM's or Prometheus' own. */
    private static final Pattern METRIC = Pattern.compile("(nvgpu_|jvm_|process_).*|up");

    private DeployFiles() {
    }

    /** The repository root (the directory holding {@code deploy/}), found upwards from the working directory. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("deploy").resolve("prometheus"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new AssertionError("no deploy/prometheus above " + Path.of("").toAbsolutePath());
    }

    static Path prometheus() {
        return root().resolve("deploy").resolve("prometheus");
    }

    static Path grafana() {
        return root().resolve("deploy").resolve("grafana");
    }

    /** The metric names a PromQL expression selects (functions, keywords and label names left out). */
    static Set<String> metricNames(String promql) {
        String s = STRING.matcher(promql).replaceAll(" ");
        s = VARIABLE.matcher(s).replaceAll(" ");
        String before;
        do {
            before = s;
            s = BRACES.matcher(s).replaceAll(" ");
            s = BRACKETS.matcher(s).replaceAll(" ");
        } while (!s.equals(before));
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String id = m.group();
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
                next++;
            }
            boolean call = next < s.length() && s.charAt(next) == '(';
            if (!call && METRIC.matcher(id).matches()) {
                names.add(id);
            }
        }
        return names;
    }

    /**
     * Every sample name the exporter can expose: the homelab scenario with the per-process series
     * on and JVM metrics, plus Prometheus' own {@code up}.
     */
    static Set<String> exposedNames() {
        try (HomelabScenario s = new HomelabScenario(true)) {
            s.run();
            Set<String> names = new LinkedHashSet<>(Exposition.parse(s.metrics.scrapeText()).names());
            names.add("up");
            return names;
        }
    }
}
