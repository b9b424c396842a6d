package org.gpuagent.agent.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A systemd unit file or drop-in as systemd reads it, for the tests: sections of
 * {@code KEY=VALUE} lines in order, comments ({@code #}, {@code ;}) and blank lines left out,
 * a trailing backslash continuing the line.
 */
record UnitFile(List<Line> lines) {
    record Line(String section, String key, String value) {
    }

    UnitFile {
        lines = List.copyOf(lines);
    }

    static UnitFile parse(String text) {
        List<Line> out = new ArrayList<>();
        String section = "";
        StringBuilder pending = null;
        for (String raw : text.split("\n", -1)) {
            String l = raw.strip();
            if (pending != null) {
                l = pending + " " + l;
                pending = null;
            }
            if (l.endsWith("\\")) {
                pending = new StringBuilder(l.substring(0, l.length() - 1).strip());
                continue;
            }
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
                continue;
            }
            if (l.startsWith("[") && l.endsWith("]")) {
                section = l.substring(1, l.length() - 1);
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("not KEY=VALUE: " + raw);
            }
            out.add(new Line(section, l.substring(0, eq).strip(), l.substring(eq + 1).strip()));
        }
        return new UnitFile(out);
    }

    /** Every value of {@code key} in {@code section}, in order (empty when it is not there). */
    List<String> values(String section, String key) {
        return lines.stream().filter(l -> l.section().equals(section) && l.key().equals(key)).map(Line::value).toList();
    }

    /** This file followed by {@code dropIn}'s lines: what systemd reads for the unit. */
    UnitFile with(UnitFile dropIn) {
        List<Line> all = new ArrayList<>(lines);
        all.addAll(dropIn.lines());
        return new UnitFile(all);
    }

    /** Renders sections of key → values (a list is one line per value) as unit text. */
    static String render(Map<String, Map<String, List<String>>> sections) {
        StringBuilder sb = new StringBuilder();
        sections.forEach((name, keys) -> {
            sb.append('[').append(name).append("]\n");
            keys.forEach((k, vs) -> vs.forEach(v -> sb.append(k).append('=').append(v).append('\n')));
            sb.append('\n');
        });
        return sb.toString();
    }

    static Map<String, Map<String, List<String>>> sections() {
        return new LinkedHashMap<>();
    }
}
