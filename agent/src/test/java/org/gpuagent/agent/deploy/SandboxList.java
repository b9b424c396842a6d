package org.gpuagent.agent.deploy;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * deploy/systemd/sandbox.json, the one list of gpu-agent.service's sandbox, and the rule that
 * turns it into directives (the same rule deploy/nixos/gpu-agent.nix applies): the fixed
 * {@code service} directives, plus, for a set of enabled actuators, the union of their
 * capabilities, writable paths, system-call groups and namespace types.
 */
final class SandboxList {
    /** What a set of actuators adds up to; {@code namespaces} empty means RestrictNamespaces=yes. */
    record Effective(Set<String> capabilities, Set<String> readWritePaths, Set<String> systemCallFilter,
            Set<String> namespaces) {
    }

    private final Map<String, Object> json;

    private SandboxList(Map<String, Object> json) {
        this.json = json;
    }

    static SandboxList load() throws IOException {
        return new SandboxList(JSON.std.mapFrom(Files.readString(file())));
    }

    static Path file() {
        return DeployTree.deploy("systemd", "sandbox.json");
    }

    /** Each fixed directive with the lines a unit must carry for it (a list: one line each). */
    Map<String, List<String>> serviceLines() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        map(json.get("service")).forEach((k, v) -> out.put(k, v instanceof List<?> l
                ? l.stream().map(String::valueOf).toList() : List.of(String.valueOf(v))));
        return out;
    }

    Set<String> actuatorNames() {
        return map(json.get("actuators")).keySet();
    }

    /** The actuators a shipped file is written for ({@code "unit"} or a drop-in's path). */
    Set<String> shipped(String file) {
        return new LinkedHashSet<>(strings(map(json.get("shipped")).get(file)));
    }

    Effective effective(Set<String> actuators) {
        Set<String> caps = new LinkedHashSet<>();
        Set<String> paths = new LinkedHashSet<>();
        Set<String> calls = new LinkedHashSet<>(strings(json.get("systemCallFilter")));
        Set<String> ns = new LinkedHashSet<>();
        for (String a : actuators) {
            Map<String, Object> m = map(map(json.get("actuators")).get(a));
            if (m == null) {
                throw new AssertionError("no actuator " + a + " in " + file());
            }
            caps.addAll(strings(m.get("capabilities")));
            paths.addAll(strings(m.get("readWritePaths")));
            calls.addAll(strings(m.get("systemCallFilter")));
            ns.addAll(strings(m.get("namespaces")));
        }
        return new Effective(caps, paths, calls, ns);
    }

    /**
     * What a unit's [Service] lines add up to, merged as systemd merges repeated assignments:
     * capabilities, paths, system-call groups and namespace types accumulate; an empty
     * assignment resets; RestrictNamespaces=yes allows none.
     */
    static Effective of(UnitFile unit) {
        return new Effective(accumulate(unit.values("Service", "CapabilityBoundingSet")),
                accumulate(unit.values("Service", "ReadWritePaths")),
                accumulate(unit.values("Service", "SystemCallFilter")),
                accumulate(unit.values("Service", "RestrictNamespaces").stream()
                        .map(v -> v.equals("yes") || v.equals("true") ? "" : v).toList()));
    }

    private static Set<String> accumulate(List<String> lines) {
        Set<String> out = new LinkedHashSet<>();
        for (String l : lines) {
            if (l.isBlank()) {
                out.clear();
            } else {
                out.addAll(Arrays.asList(l.strip().split("\\s+")));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static List<String> strings(Object o) {
        return o == null ? List.of() : ((List<?>) o).stream().map(String::valueOf).toList();
    }
}
