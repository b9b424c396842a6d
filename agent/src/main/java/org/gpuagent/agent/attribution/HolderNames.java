package org.gpuagent.agent.attribution;

import java.util.Optional;
import java.util.regex.Pattern;
import org.gpuagent.agent.config.UnitNames;
import org.gpuagent.scheduler.AdmissionRequest;

/**
 * The lease holder conventions the agent understands: {@code systemd:<unit>} (an
 * {@code ExecStartPre} admission; {@code systemd:ollama} means {@code systemd:ollama.service}, as
 * {@code systemctl} reads it), {@code oci:<container id>} (the OCI hook), {@code pid:<N>}. Any other
 * holder is an opaque name.
 */
public final class HolderNames {
    static final String SYSTEMD = "systemd:";
    static final String OCI = "oci:";
    static final String PID = "pid:";

    /** runc's container id alphabet ({@code ^[\w+-\.]+$}); Podman's and Docker's ids are hex. */
    private static final Pattern CONTAINER = Pattern.compile("[A-Za-z0-9_+.-]{1,255}");

    private HolderNames() {
    }

    /**
     * What makes {@code holder} unacceptable as a lease holder, as the end of a sentence starting
     * with "holder": empty when it is fine. A holder is 1-{@value AdmissionRequest#MAX_HOLDER_LENGTH}
     * characters without control characters or lone surrogates (it is journalled as UTF-8 and must
     * come back the same after a restart); a {@code systemd:} holder names a unit and an {@code oci:}
     * holder a container id, because those become paths under cgroupfs; {@code pid:} is followed by
     * a process id.
     */
    public static Optional<String> problem(String holder) {
        if (holder.isBlank() || holder.length() > AdmissionRequest.MAX_HOLDER_LENGTH) {
            return Optional.of("must be 1-" + AdmissionRequest.MAX_HOLDER_LENGTH + " characters, got "
                    + holder.length());
        }
        for (int i = 0; i < holder.length(); i++) {
            char c = holder.charAt(i);
            if (Character.isISOControl(c)) {
                return Optional.of(String.format("must not contain control characters (U+%04X at %d)", (int) c, i));
            }
            if (Character.isHighSurrogate(c) && i + 1 < holder.length() && Character.isLowSurrogate(holder.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return Optional.of(String.format("must not contain a lone surrogate (U+%04X at %d)", (int) c, i));
            }
        }
        if (holder.startsWith(SYSTEMD) && unitOf(holder).isEmpty()) {
            return Optional.of("'" + holder + "' does not name a systemd unit (letters, digits and :_.@\\- only, "
                    + "as in systemd:ollama.service)");
        }
        if (holder.startsWith(OCI)) {
            String id = holder.substring(OCI.length()).strip();
            if (!CONTAINER.matcher(id).matches() || id.equals(".") || id.equals("..")) {
                return Optional.of("'" + holder + "' does not name a container (letters, digits and _+.- only, "
                        + "as in oci:<container id>)");
            }
        }
        if (holder.startsWith(PID) && !holder.substring(PID.length()).strip().matches("[1-9][0-9]{0,18}")) {
            return Optional.of("'" + holder + "' does not name a process (pid:<number>)");
        }
        return Optional.empty();
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
