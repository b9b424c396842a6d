package org.gpuagent.agent.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.gpuagent.scheduler.ByteSize;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML mapping being read by {@link ConfigLoader}: typed getters that record a
 * {@link ConfigProblem} (with path and line) instead of throwing, so one pass reports every
 * problem. {@link #finish()} reports the keys nobody asked for.
 */
final class YamlSection {
    private final String source;
    private final String path;
    private final int line;
    private final List<ConfigProblem> problems;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
    private final Set<String> known = new TreeSet<>();

    YamlSection(String source, String path, Node node, List<ConfigProblem> problems) {
        this(source, path, lineOf(node), node, problems);
    }

    /** @param line where this section is named (its key's line), for problems about the section as a whole */
    YamlSection(String source, String path, int line, Node node, List<ConfigProblem> problems) {
        this.source = source;
        this.path = path;
        this.line = line;
        this.problems = problems;
        if (node instanceof MappingNode mapping) {
            Map<String, Integer> firstLine = new HashMap<>();
            for (NodeTuple t : mapping.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode key)) {
                    problem(lineOf(t.getKeyNode()), path, "keys must be plain names");
                    continue;
                }
                String k = key.getValue();
                Integer first = firstLine.putIfAbsent(k, lineOf(key));
                if (first != null) {
                    problem(lineOf(key), join(path, k), "duplicate key (first at line " + first + ")");
                    continue;
                }
                entries.put(k, t);
            }
        } else if (node != null && !isNull(node)) {
            problem(line, path, "expected a mapping of keys to values");
        }
    }

    static int lineOf(Node node) {
        return node == null ? 0 : node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode s && (s.getTag().getValue().endsWith(":null")
                || (s.isPlain() && (s.getValue().isEmpty() || s.getValue().equals("~") || s.getValue().equals("null"))));
    }

    static String join(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    String path() {
        return path;
    }

    int line() {
        return line;
    }

    void problem(int atLine, String atPath, String message) {
        problems.add(new ConfigProblem(source, atLine, atPath, message));
    }

    /** Problems found so far in the whole file (to tell whether a part added any). */
    int problemCount() {
        return problems.size();
    }

    boolean has(String key) {
        known.add(key);
        NodeTuple t = entries.get(key);
        return t != null && !isNull(t.getValueNode());
    }

    Optional<Node> node(String key) {
        known.add(key);
        NodeTuple t = entries.get(key);
        return t == null || isNull(t.getValueNode()) ? Optional.empty() : Optional.of(t.getValueNode());
    }

    int lineOf(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? line : lineOf(t.getKeyNode());
    }

    /** Keys in file order (for maps whose keys are names, like services). */
    List<String> keys() {
        return new ArrayList<>(entries.keySet());
    }

    YamlSection section(String key) {
        return new YamlSection(source, join(path, key), entries.containsKey(key) ? lineOf(key) : line,
                node(key).orElse(null), problems);
    }

    Optional<String> scalar(String key) {
        Optional<Node> n = node(key);
        if (n.isEmpty()) {
            return Optional.empty();
        }
        if (n.get() instanceof ScalarNode s) {
            return Optional.of(s.getValue());
        }
        problem(lineOf(n.get()), join(path, key), "expected a single value, not a list or mapping");
        return Optional.empty();
    }

    String string(String key, String dflt) {
        return scalar(key).orElse(dflt);
    }

    long size(String key, long dflt) {
        Optional<String> v = scalar(key);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            return ByteSize.parse(v.get());
        } catch (IllegalArgumentException e) {
            problem(lineOf(key), join(path, key), e.getMessage());
            return dflt;
        }
    }

    Duration duration(String key, Duration dflt) {
        Optional<String> v = scalar(key);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            return Durations.parse(v.get());
        } catch (IllegalArgumentException e) {
            problem(lineOf(key), join(path, key), e.getMessage());
            return dflt;
        }
    }

    int integer(String key, int dflt, int min, int max) {
        Optional<String> v = scalar(key);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v.get().strip());
            if (i < min || i > max) {
                problem(lineOf(key), join(path, key), i + " is out of range " + min + "-" + max);
                return dflt;
            }
            return i;
        } catch (NumberFormatException e) {
            problem(lineOf(key), join(path, key), "\"" + v.get() + "\" is not a whole number");
            return dflt;
        }
    }

    boolean bool(String key, boolean dflt) {
        Optional<String> v = scalar(key);
        if (v.isEmpty()) {
            return dflt;
        }
        return switch (v.get().strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> {
                problem(lineOf(key), join(path, key), "\"" + v.get() + "\" is not true or false");
                yield dflt;
            }
        };
    }

    HostPort hostPort(String key, HostPort dflt) {
        Optional<String> v = scalar(key);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            return HostPort.parse(v.get());
        } catch (IllegalArgumentException e) {
            problem(lineOf(key), join(path, key), e.getMessage());
            return dflt;
        }
    }

    /** A list of scalars; a single scalar is accepted as a one-element list. */
    List<String> strings(String key) {
        Optional<Node> n = node(key);
        if (n.isEmpty()) {
            return List.of();
        }
        if (n.get() instanceof ScalarNode s) {
            return List.of(s.getValue());
        }
        if (n.get() instanceof SequenceNode seq) {
            List<String> out = new ArrayList<>();
            for (Node item : seq.getValue()) {
                if (item instanceof ScalarNode s) {
                    out.add(s.getValue());
                } else {
                    problem(lineOf(item), join(path, key), "expected a list of plain values");
                }
            }
            return out;
        }
        problem(lineOf(n.get()), join(path, key), "expected a list");
        return List.of();
    }

    /** The items of a list of mappings. */
    List<YamlSection> sections(String key) {
        Optional<Node> n = node(key);
        if (n.isEmpty()) {
            return List.of();
        }
        if (!(n.get() instanceof SequenceNode seq)) {
            problem(lineOf(n.get()), join(path, key), "expected a list");
            return List.of();
        }
        List<YamlSection> out = new ArrayList<>();
        int i = 0;
        for (Node item : seq.getValue()) {
            out.add(new YamlSection(source, join(path, key) + "[" + i++ + "]", item, problems));
        }
        return out;
    }

    /** Reports every key present but never asked for, with the closest known key as a hint. */
    void finish() {
        for (var e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                String hint = closest(e.getKey()).map(k -> " (did you mean \"" + k + "\"?)").orElse("");
                problem(lineOf(e.getValue().getKeyNode()), join(path, e.getKey()),
                        "unknown key" + hint + "; known keys here: " + String.join(", ", known));
            }
        }
    }

    private Optional<String> closest(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = editDistance(key.toLowerCase(Locale.ROOT), k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 3) ? Optional.ofNullable(best) : Optional.empty();
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
