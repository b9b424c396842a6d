package org.gpuagent.agent.deploy;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What Podman 4 does with a hooks.d directory, for a runc bundle (containers/common pkg/hooks,
 * schema 1.0.0; libpod's setupOCIHooks and postDeleteHooks):
 * <ul>
 *   <li>every {@code *.json} file of each directory, by file name, a later directory's file
 *   replacing an earlier one of the same name;</li>
 *   <li>{@code when}: every condition given must hold (always, each annotation pattern pair, a
 *   command pattern, hasBindMounts), and at least one must be given; patterns are Go regular
 *   expressions matched anywhere in the string ({@code regexp.MatchString}), as Java's
 *   {@code find} does for these;</li>
 *   <li>the stages {@code precreate} and {@code poststop} are Podman's own ("extension stages"):
 *   it runs poststop itself after deleting the container, with the state on stdin; every other
 *   stage goes into the bundle's {@code config.json} under {@code hooks}, for the runtime.</li>
 * </ul>
 */
final class PodmanHooks {
    static final Set<String> EXTENSION_STAGES = Set.of("precreate", "poststop");
    static final Set<String> RUNTIME_STAGES = Set.of("prestart", "createRuntime", "createContainer",
            "startContainer", "poststart");

    /** One hook file. */
    record Hook(String file, Map<String, Object> hook, Map<String, Object> when, List<String> stages) {
        String path() {
            return (String) hook.get("path");
        }

        @SuppressWarnings("unchecked")
        List<String> args() {
            return (List<String>) hook.getOrDefault("args", List.of(path()));
        }

        /** Whether Podman would inject it into a container with these annotations and command. */
        boolean matches(Map<String, String> annotations, List<String> processArgs, boolean hasBindMounts) {
            int matches = 0;
            if (when.get("always") instanceof Boolean always) {
                if (!always) {
                    return false;
                }
                matches++;
            }
            if (when.get("hasBindMounts") instanceof Boolean bind) {
                if (!(bind && hasBindMounts)) {
                    return false;
                }
                matches++;
            }
            if (when.get("annotations") instanceof Map<?, ?> patterns) {
                for (Map.Entry<?, ?> p : patterns.entrySet()) {
                    Pattern key = Pattern.compile((String) p.getKey());
                    Pattern value = Pattern.compile((String) p.getValue());
                    boolean any = annotations.entrySet().stream()
                            .anyMatch(a -> key.matcher(a.getKey()).find() && value.matcher(a.getValue()).find());
                    if (!any) {
                        return false;
                    }
                    matches++;
                }
            }
            if (when.get("commands") instanceof List<?> commands && !commands.isEmpty() && !processArgs.isEmpty()) {
                boolean any = commands.stream().anyMatch(c -> Pattern.compile((String) c).matcher(processArgs.get(0)).find());
                if (!any) {
                    return false;
                }
                matches++;
            }
            return matches > 0;
        }
    }

    private PodmanHooks() {
    }

    /** The hooks of {@code dirs}, in Podman's order. */
    @SuppressWarnings("unchecked")
    static List<Hook> read(Path... dirs) throws IOException {
        Map<String, Path> byName = new TreeMap<>();
        for (Path d : dirs) {
            try (Stream<Path> s = Files.list(d)) {
                s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p))
                        .forEach(p -> byName.put(p.getFileName().toString(), p));
            }
        }
        List<Hook> out = new ArrayList<>();
        for (Map.Entry<String, Path> e : byName.entrySet()) {
            Map<String, Object> m = JSON.std.mapFrom(Files.readString(e.getValue()));
            if (!"1.0.0".equals(m.get("version"))) {
                throw new IOException(e.getValue() + ": unknown hook version " + m.get("version"));
            }
            Map<String, Object> hook = (Map<String, Object>) m.get("hook");
            if (hook == null || !(hook.get("path") instanceof String path) || !path.startsWith("/")) {
                throw new IOException(e.getValue() + ": hook.path must be an absolute path");
            }
            List<String> stages = (List<String>) m.get("stages");
            if (stages == null || stages.isEmpty()) {
                throw new IOException(e.getValue() + ": no stages");
            }
            for (String st : stages) {
                if (!EXTENSION_STAGES.contains(st) && !RUNTIME_STAGES.contains(st)) {
                    throw new IOException(e.getValue() + ": unknown stage " + st);
                }
            }
            Map<String, Object> when = (Map<String, Object>) m.getOrDefault("when", Map.of());
            out.add(new Hook(e.getKey(), hook, when, stages));
        }
        return out;
    }

    /**
     * Puts the matching hooks of the runtime's stages into {@code config} (a config.json) as
     * Podman does, and returns the matching extension-stage hooks by stage.
     */
    @SuppressWarnings("unchecked")
    static Map<String, List<Hook>> inject(Map<String, Object> config, List<Hook> hooks) {
        Map<String, String> annotations = new LinkedHashMap<>();
        ((Map<String, Object>) config.getOrDefault("annotations", Map.of())).forEach((k, v) -> annotations.put(k, (String) v));
        List<String> args = (List<String>) ((Map<String, Object>) config.get("process")).get("args");
        Map<String, Object> runtime = (Map<String, Object>) config.computeIfAbsent("hooks", k -> new LinkedHashMap<>());
        Map<String, List<Hook>> extension = new LinkedHashMap<>();
        for (Hook h : hooks) {
            if (!h.matches(annotations, args, false)) {
                continue;
            }
            for (String stage : h.stages()) {
                if (EXTENSION_STAGES.contains(stage)) {
                    extension.computeIfAbsent(stage, k -> new ArrayList<>()).add(h);
                } else {
                    ((List<Object>) runtime.computeIfAbsent(stage, k -> new ArrayList<>())).add(h.hook());
                }
            }
        }
        return extension;
    }
}
