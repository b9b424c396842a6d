package org.gpuagent.agent.config;

import java.util.Optional;
import java.util.Set;

/**
 * systemd unit names as the agent accepts them, in configuration ({@code match.units},
 * {@code preemption.unit}) and in lease holders ({@code systemd:<unit>}). One rule for both, so
 * that what {@code check-config} accepts is exactly what attribution can match.
 *
 * <p>A name is {@code PREFIX[@INSTANCE][.TYPE]}: systemd's alphabet (letters, digits,
 * {@code : - _ . \}), at most one {@code @}, at most 255 characters, not starting with {@code .}
 * or {@code -} (a leading dash would reach {@code systemctl} as an option). Without a known type
 * it means the {@code .service} of that name ({@code ollama} = {@code ollama.service}, as
 * {@code systemctl} reads it). A template ({@code foo@.service}) names no running unit and is
 * refused.
 */
public final class UnitNames {
    /** systemd's UNIT_NAME_MAX is 256 including the terminating NUL. */
    public static final int MAX_LENGTH = 255;
    private static final Set<String> TYPES = Set.of("service", "socket", "device", "mount", "automount",
            "swap", "target", "path", "timer", "slice", "scope");

    private UnitNames() {
    }

    /** {@code name} as systemd spells the unit, or empty when it is no valid unit name. */
    public static Optional<String> canonical(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.strip();
        if (n.isEmpty() || n.length() > MAX_LENGTH || n.startsWith(".") || n.startsWith("-")) {
            return Optional.empty();
        }
        int ats = 0;
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
            if (!ok) {
                return Optional.empty();
            }
            if (c == '@') {
                ats++;
            }
        }
        int dot = n.lastIndexOf('.');
        if (dot < 0 || !TYPES.contains(n.substring(dot + 1))) {
            n = n + ".service";
            dot = n.lastIndexOf('.');
            if (n.length() > MAX_LENGTH) {
                return Optional.empty();
            }
        }
        String prefix = n.substring(0, dot);
        if (ats > 1 || prefix.isEmpty() || prefix.startsWith("@") || prefix.endsWith("@")) {
            return Optional.empty();
        }
        return Optional.of(n);
    }

    /** Why {@code name} is refused, for a configuration problem. */
    public static String problem(String name) {
        String n = name == null ? "" : name.strip();
        if (n.endsWith("@") || n.contains("@.")) {
            return "\"" + name + "\" is a template, which names no running unit; list an instance such as "
                    + n.replace("@", "@1") ;
        }
        return "\"" + name + "\" is not a systemd unit name (letters, digits, ':', '-', '_', '.', '\\', at most one '@'; "
                + "not starting with '.' or '-'; at most " + MAX_LENGTH + " characters)";
    }
}
