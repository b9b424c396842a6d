package org.gpuagent.agent.daemon;

import java.util.Optional;
import org.gpuagent.agent.config.UnitNames;

/**
 * The lease holder conventions the agent understands: {@code systemd:<unit>} (an
 * {@code ExecStartPre} admission; {@code systemd:ollama} means {@code systemd:ollama.service}, as
 * {@code systemctl} reads it), {@code oci:<container id>} (the OCI hook), {@code pid:<N>}. Any other
 * holder is an opaque name.
 */
final class HolderNames {
    static final String SYSTEMD = "systemd:";
    static final String OCI = "oci:";

    private HolderNames() {
    }

    /**
     * {@code name} as systemd spells the unit ({@link UnitNames#canonical}): with {@code .service}
     * appended when it has no unit type. Empty when it is no valid unit name (so it can never be a
     * path under cgroupfs).
     */
    static Optional<String> unit(String name) {
        return UnitNames.canonical(name);
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
