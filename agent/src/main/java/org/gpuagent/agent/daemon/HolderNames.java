package org.gpuagent.agent.daemon;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The lease holder conventions the agent understands: {@code systemd:<unit>} (an
 * {@code ExecStartPre} admission; {@code systemd:ollama} means {@code systemd:ollama.service}, as
 * {@code systemctl} reads it), {@code oci:<container id>} (the OCI hook), {@code pid:<N>}. Any other
 * holder is an opaque name.
 */
final class HolderNames {
    static final String SYSTEMD = "systemd:";
    static final String OCI = "oci:";

    /** systemd's unit name alphabet (unit_name_is_valid); also keeps a holder from naming a path. */
    private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.@\\\\-]{1,255}");
    private static final Set<String> UNIT_TYPES = Set.of("service", "socket", "device", "mount", "automount",
            "swap", "target", "path", "timer", "slice", "scope");

    private HolderNames() {
    }

    /**
     * {@code name} as systemd spells the unit: with {@code .service} appended when it has no unit
     * type. Empty when it is no valid unit name (so it can never be a path under cgroupfs).
     */
    static Optional<String> unit(String name) {
        String n = name.strip();
        if (!UNIT.matcher(n).matches() || n.startsWith(".")) {
            return Optional.empty();
        }
        int dot = n.lastIndexOf('.');
        if (dot < 0 || !UNIT_TYPES.contains(n.substring(dot + 1))) {
            n = n + ".service";
        }
        return Optional.of(n);
    }

    /** The unit a {@code systemd:} holder names; empty for other holders and invalid names. */
    static Optional<String> unitOf(String holder) {
        return holder.startsWith(SYSTEMD) ? unit(holder.substring(SYSTEMD.length())) : Optional.empty();
    }

    /** The full container id an {@code oci:} holder names; empty for other holders and other ids. */
    static Optional<String> containerOf(String holder) {
        if (!holder.startsWith(OCI)) {
            return Optional.empty();
        }
        String id = holder.substring(OCI.length()).strip();
        return CgroupMembership.isContainerId(id) ? Optional.of(id) : Optional.empty();
    }

    /**
     * The key under which {@code holder} is looked up: the same holder for every spelling of one
     * unit; other holders as they are.
     */
    static String key(String holder) {
        return unitOf(holder).map(u -> SYSTEMD + u).orElse(holder);
    }
}
