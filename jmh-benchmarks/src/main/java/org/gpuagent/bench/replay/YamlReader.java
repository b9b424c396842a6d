package org.gpuagent.bench.replay;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.gpuagent.scheduler.ByteSize;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads scenario and table YAML as nodes, so every refusal names its file and line. Strict: a key
 * nobody asked for is an error (a typo in a scenario must not silently change the day).
 */
final class YamlReader {
    private final String file;

    YamlReader(String file) {
        this.file = file;
    }

    String file() {
        return file;
    }

    Node parse(String yaml) throws ScenarioException {
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(false).build();
            return new Compose(settings).composeString(yaml)
                    .orElseThrow(() -> new ScenarioException(file, 1, "the file is empty"));
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            String problem = e.getProblem() == null ? "not valid YAML" : e.getProblem();
            throw new ScenarioException(file, line, "not valid YAML: " + problem);
        } catch (YamlEngineException e) {
            throw new ScenarioException(file, 0, "not valid YAML: " + e.getMessage());
        }
    }

    static int line(Node n) {
        return n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    ScenarioException problem(Node at, String message) {
        return new ScenarioException(file, line(at), message);
    }

    /** The entries of a mapping, keys in file order; refuses keys outside {@code allowed}. */
    Map<String, Node> mapping(Node n, String what, Set<String> allowed) throws ScenarioException {
        if (!(n instanceof MappingNode m)) {
            throw problem(n, what + " must be a mapping");
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                throw problem(t.getKeyNode(), what + ": keys must be plain names");
            }
            if (!allowed.isEmpty() && !allowed.contains(key.getValue())) {
                throw problem(key, "unknown key '" + key.getValue() + "' in " + what + " (expected one of "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
            out.put(key.getValue(), t.getValueNode());
        }
        return out;
    }

    /** A mapping whose keys are names the caller checks (services, per-service overrides). */
    Map<String, Node> namedMapping(Node n, String what) throws ScenarioException {
        return mapping(n, what, Set.of());
    }

    List<Node> sequence(Node n, String what) throws ScenarioException {
        if (!(n instanceof SequenceNode s)) {
            throw problem(n, what + " must be a list");
        }
        return new ArrayList<>(s.getValue());
    }

    String text(Node n, String what) throws ScenarioException {
        if (!(n instanceof ScalarNode s) || s.getValue().isBlank()) {
            throw problem(n, what + " must be a non-empty value");
        }
        return s.getValue().strip();
    }

    Node required(Map<String, Node> m, String key, Node parent, String what) throws ScenarioException {
        Node n = m.get(key);
        if (n == null) {
            throw problem(parent, what + " needs '" + key + "'");
        }
        return n;
    }

    long bytes(Node n, String what) throws ScenarioException {
        String t = text(n, what);
        try {
            return ByteSize.parse(t);
        } catch (IllegalArgumentException e) {
            throw problem(n, what + ": " + e.getMessage());
        }
    }

    long integer(Node n, String what, long min, long max) throws ScenarioException {
        String t = text(n, what);
        try {
            long v = Long.parseLong(t);
            if (v < min || v > max) {
                throw problem(n, what + " must be " + min + "-" + max + ", got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw problem(n, what + " must be a whole number, got '" + t + "'");
        }
    }

    boolean bool(Node n, String what) throws ScenarioException {
        String t = text(n, what).toLowerCase(Locale.ROOT);
        return switch (t) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw problem(n, what + " must be true or false, got '" + t + "'");
        };
    }

    /** "30s", "10m", "1h30m", "0s". */
    Duration duration(Node n, String what) throws ScenarioException {
        String t = text(n, what);
        try {
            Duration d = Duration.parse("PT" + t.toUpperCase(Locale.ROOT));
            if (d.isNegative()) {
                throw problem(n, what + " must not be negative");
            }
            return d;
        } catch (DateTimeParseException e) {
            throw problem(n, what + " must be a duration such as 30s, 10m or 1h30m, got '" + t + "'");
        }
    }

    /** "HH:MM" on the replayed day, 00:00 to 24:00, as the offset from midnight. */
    Duration timeOfDay(Node n, String what) throws ScenarioException {
        String t = text(n, what);
        String[] parts = t.split(":");
        try {
            if (parts.length == 2 && parts[1].length() == 2) {
                int h = Integer.parseInt(parts[0]);
                int m = Integer.parseInt(parts[1]);
                if (h >= 0 && m >= 0 && m < 60 && (h < 24 || (h == 24 && m == 0))) {
                    return Duration.ofHours(h).plusMinutes(m);
                }
            }
        } catch (NumberFormatException e) {
            // falls through to the refusal below
        }
        throw problem(n, what + " must be a time of day HH:MM between 00:00 and 24:00, got '" + t + "'");
    }
}
