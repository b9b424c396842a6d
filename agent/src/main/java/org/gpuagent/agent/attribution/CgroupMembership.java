package org.gpuagent.agent.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a process sits in the cgroup tree, as far as attribution cares: the container(s) and the
 * systemd unit(s) its cgroup path names, each list leaf-most first.
 *
 * <p>Parsing rules ({@link #parse}): of the lines of {@code /proc/PID/cgroup}
 * ({@code hierarchy-ID:controllers:path}), the unified one ({@code 0::/path}, cgroup v2 and the
 * hybrid layout) is read first, then the cgroup v1 {@code name=systemd} line, then every other
 * line in file order; the first path that names a container or a unit wins. In a path:
 * <ul>
 *   <li>a container is a component {@code libpod-<id>.scope} (Podman, systemd cgroup manager),
 *   {@code libpod-<id>} (cgroupfs manager), {@code libpod-payload-<id>} ({@code --cgroups=split}),
 *   {@code docker-<id>.scope} (Docker, systemd driver), or {@code <id>} under a {@code docker}
 *   component (Docker, cgroupfs driver), where {@code <id>} is the full 64-hex-digit id. Podman's
 *   {@code libpod-conmon-<id>.scope} holds the container's monitor, not the container, and is no
 *   container;</li>
 *   <li>a unit is a component ending in {@code .service} or a {@code .scope} that is not a
 *   container's scope (transient units: {@code systemd-run --scope}, login sessions). User units
 *   are found the same way under {@code user@UID.service}, which is itself a unit. Only units
 *   rootward of the outermost container count: a unit below a container is the container's own
 *   systemd's, not the host's.</li>
 * </ul>
 *
 * @param containers container ids (64 hex digits), leaf-most first
 * @param units      systemd unit names, leaf-most first
 */
record CgroupMembership(List<String> containers, List<String> units) {
    private static final String DELETED = " (deleted)";

    CgroupMembership {
        containers = List.copyOf(containers);
        units = List.copyOf(units);
    }

    /** The leaf-most container id. */
    Optional<String> container() {
        return containers.isEmpty() ? Optional.empty() : Optional.of(containers.get(0));
    }

    /** The leaf-most unit. */
    Optional<String> unit() {
        return units.isEmpty() ? Optional.empty() : Optional.of(units.get(0));
    }

    /**
     * The membership {@code procCgroup} (the text of {@code /proc/PID/cgroup}) describes; empty
     * when no line names a container or a unit (the root cgroup, a cgroup namespace, garbage).
     * Never throws.
     */
    static Optional<CgroupMembership> parse(String procCgroup) {
        String unified = null;
        String systemd = null;
        List<String> others = new ArrayList<>(4);
        for (String line : procCgroup.split("\n")) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String hierarchy = line.substring(0, first);
            String controllers = line.substring(first + 1, second);
            String path = line.substring(second + 1).strip();
            if (hierarchy.equals("0") && controllers.isEmpty()) {
                unified = unified == null ? path : unified;
            } else if (controllers.equals("name=systemd")) {
                systemd = systemd == null ? path : systemd;
            } else {
                others.add(path);
            }
        }
        List<String> order = new ArrayList<>(others.size() + 2);
        if (unified != null) {
            order.add(unified);
        }
        if (systemd != null) {
            order.add(systemd);
        }
        order.addAll(others);
        for (String path : order) {
            Optional<CgroupMembership> m = ofPath(path);
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }

    /** The membership one cgroup path names; empty when it names neither a container nor a unit. */
    static Optional<CgroupMembership> ofPath(String path) {
        if (path.endsWith(DELETED)) {
            path = path.substring(0, path.length() - DELETED.length());
        }
        String[] parts = path.split("/");
        List<String> containers = new ArrayList<>(1);
        int outermostContainer = parts.length;
        for (int i = parts.length - 1; i >= 0; i--) {
            String id = containerId(parts[i], i > 0 ? parts[i - 1] : "");
            if (id != null) {
                containers.add(id);
                outermostContainer = i;
            }
        }
        List<String> units = new ArrayList<>(2);
        for (int i = outermostContainer - 1; i >= 0; i--) {
            if (isUnit(parts[i])) {
                units.add(parts[i]);
            }
        }
        if (containers.isEmpty() && units.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new CgroupMembership(containers, units));
    }

    /** The container id that path component {@code c} (below {@code parent}) names, or null. */
    private static String containerId(String c, String parent) {
        String id = null;
        if (c.startsWith("libpod-payload-")) {
            id = c.substring("libpod-payload-".length());
        } else if (c.startsWith("libpod-")) {
            id = c.endsWith(".scope") ? c.substring("libpod-".length(), c.length() - ".scope".length())
                    : c.substring("libpod-".length());
        } else if (c.startsWith("docker-") && c.endsWith(".scope")) {
            id = c.substring("docker-".length(), c.length() - ".scope".length());
        } else if (parent.equals("docker")) {
            id = c;
        }
        // libpod-conmon-<id>.scope fails here: "conmon-<id>" is not an id.
        return id != null && isContainerId(id) ? id : null;
    }

    /** A full container id: 64 lower-case hex digits (what Podman, Docker and the OCI hook use). */
    static boolean isContainerId(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isUnit(String c) {
        return c.length() > ".service".length() && c.endsWith(".service")
                || c.length() > ".scope".length() && c.endsWith(".scope");
    }
}
