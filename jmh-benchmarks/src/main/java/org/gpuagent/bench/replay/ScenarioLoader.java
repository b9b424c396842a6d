package org.gpuagent.bench.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.bench.replay.Scenario.Background;
import org.gpuagent.bench.replay.Scenario.FitSpec;
import org.gpuagent.bench.replay.Scenario.Policy;
import org.gpuagent.bench.replay.Scenario.ServiceSpec;
import org.gpuagent.bench.replay.Scenario.WorkloadSpec;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads a scenario and the VRAM table it names. Refuses, with file and line, invalid YAML, unknown
 * keys, an unknown service or kind, a kind whose service the scenario does not configure, and
 * values out of range. The first problem found is reported.
 */
final class ScenarioLoader {
    private static final Map<String, GpuProfile> CARDS = Map.of("quadro-p1000", GpuProfile.QUADRO_P1000);

    private ScenarioLoader() {
    }

    static Scenario load(Path file) throws ScenarioException, IOException {
        String yaml = Files.readString(file, StandardCharsets.UTF_8);
        YamlReader r = new YamlReader(file.toString());
        Node root = r.parse(yaml);
        Map<String, Node> top = r.mapping(root, "the scenario",
                Set.of("name", "card", "seed", "table", "services", "workloads", "policies", "fit"));
        String name = r.text(r.required(top, "name", root, "the scenario"), "name");
        Node cardNode = r.required(top, "card", root, "the scenario");
        GpuProfile card = CARDS.get(r.text(cardNode, "card"));
        if (card == null) {
            throw r.problem(cardNode, "unknown card '" + r.text(cardNode, "card") + "' (expected one of "
                    + String.join(", ", CARDS.keySet()) + ")");
        }
        long seed = top.containsKey("seed") ? r.integer(top.get("seed"), "seed", Long.MIN_VALUE, Long.MAX_VALUE) : 1;
        Node tableNode = r.required(top, "table", root, "the scenario");
        Path tablePath = file.resolveSibling(r.text(tableNode, "table"));
        if (!Files.isRegularFile(tablePath)) {
            throw r.problem(tableNode, "table " + tablePath + " does not exist");
        }
        VramTable table = loadTable(tablePath);

        Map<String, ServiceSpec> services = services(r, r.required(top, "services", root, "the scenario"));
        List<WorkloadSpec> workloads = new ArrayList<>();
        for (Node w : r.sequence(r.required(top, "workloads", root, "the scenario"), "workloads")) {
            workloads.add(workload(r, w, table, services));
        }
        List<Policy> policies = new ArrayList<>();
        if (top.containsKey("policies")) {
            Set<String> names = new HashSet<>();
            for (Node p : r.sequence(top.get("policies"), "policies")) {
                Policy policy = policy(r, p, services);
                if (!names.add(policy.name())) {
                    throw r.problem(p, "policy '" + policy.name() + "' is defined twice");
                }
                policies.add(policy);
            }
        }
        if (policies.isEmpty()) {
            policies.add(new Policy("as configured", Optional.empty(), true, Map.of(), Map.of()));
        }
        Optional<FitSpec> fit = top.containsKey("fit")
                ? Optional.of(fit(r, top.get("fit"), table, services)) : Optional.empty();
        return new Scenario(name, file.toString(), seed, card, table, services, List.copyOf(workloads),
                List.copyOf(policies), fit);
    }

    static VramTable loadTable(Path file) throws ScenarioException, IOException {
        YamlReader r = new YamlReader(file.toString());
        Node root = r.parse(Files.readString(file, StandardCharsets.UTF_8));
        Map<String, Node> top = r.mapping(root, "the VRAM table", Set.of("rows"));
        Map<String, VramTable.Row> rows = new LinkedHashMap<>();
        for (Node n : r.sequence(r.required(top, "rows", root, "the VRAM table"), "rows")) {
            Map<String, Node> m = r.mapping(n, "a table row", Set.of("kind", "service", "vram", "source"));
            String kind = r.text(r.required(m, "kind", n, "a table row"), "kind");
            String service = r.text(r.required(m, "service", n, "a table row"), "service");
            long bytes = r.bytes(r.required(m, "vram", n, "a table row"), "vram");
            String source = r.text(r.required(m, "source", n, "table row " + kind), "source");
            if (rows.putIfAbsent(kind, new VramTable.Row(kind, service, bytes, source)) != null) {
                throw r.problem(n, "kind '" + kind + "' is in the table twice");
            }
        }
        return new VramTable(file.toString(), rows);
    }

    private static Map<String, ServiceSpec> services(YamlReader r, Node n) throws ScenarioException {
        Map<String, ServiceSpec> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : r.namedMapping(n, "services").entrySet()) {
            String name = e.getKey();
            Node sn = e.getValue();
            Map<String, Node> m = r.mapping(sn, "service " + name,
                    Set.of("priority", "request", "preemptible", "wait", "eviction-deadline", "evicts-in"));
            Node pn = r.required(m, "priority", sn, "service " + name);
            PriorityClass priority = priority(r, pn);
            long request = r.bytes(r.required(m, "request", sn, "service " + name), "request");
            boolean preemptible = m.containsKey("preemptible") && r.bool(m.get("preemptible"), "preemptible");
            Duration wait = m.containsKey("wait") ? r.duration(m.get("wait"), "wait") : Duration.ZERO;
            Duration deadline = m.containsKey("eviction-deadline")
                    ? r.duration(m.get("eviction-deadline"), "eviction-deadline") : Service.DEFAULT_EVICTION_DEADLINE;
            Duration evictsIn = m.containsKey("evicts-in") ? r.duration(m.get("evicts-in"), "evicts-in") : Duration.ZERO;
            try {
                Service.of(name, priority, request, preemptible);
            } catch (IllegalArgumentException ex) {
                throw r.problem(sn, ex.getMessage());
            }
            out.put(name, new ServiceSpec(name, priority, request, preemptible, wait, deadline, evictsIn));
        }
        if (out.isEmpty()) {
            throw r.problem(n, "services must name at least one service");
        }
        return out;
    }

    private static PriorityClass priority(YamlReader r, Node n) throws ScenarioException {
        try {
            return PriorityClass.parse(r.text(n, "priority"));
        } catch (IllegalArgumentException e) {
            throw r.problem(n, e.getMessage());
        }
    }

    private static String kind(YamlReader r, Node n, VramTable table, Map<String, ServiceSpec> services)
            throws ScenarioException {
        String kind = r.text(n, "kind");
        VramTable.Row row = table.rows().get(kind);
        if (row == null) {
            throw r.problem(n, "unknown kind '" + kind + "' (the table " + table.file() + " has "
                    + String.join(", ", table.rows().keySet()) + ")");
        }
        if (!services.containsKey(row.service())) {
            throw r.problem(n, "kind '" + kind + "' belongs to service '" + row.service()
                    + "', which the scenario does not configure (services: "
                    + String.join(", ", services.keySet()) + ")");
        }
        return kind;
    }

    private static WorkloadSpec workload(YamlReader r, Node n, VramTable table, Map<String, ServiceSpec> services)
            throws ScenarioException {
        Map<String, Node> m = r.mapping(n, "a workload",
                Set.of("kind", "count", "from", "to", "every", "jitter", "lasts", "lasts-jitter"));
        String kind = kind(r, r.required(m, "kind", n, "a workload"), table, services);
        int count = m.containsKey("count") ? (int) r.integer(m.get("count"), "count", 1, 64) : 1;
        Duration from = r.timeOfDay(r.required(m, "from", n, "workload " + kind), "from");
        Duration to = r.timeOfDay(r.required(m, "to", n, "workload " + kind), "to");
        if (to.compareTo(from) <= 0) {
            throw r.problem(m.get("to"), "workload " + kind + ": 'to' must be after 'from'");
        }
        Optional<Duration> every = m.containsKey("every") ? Optional.of(r.duration(m.get("every"), "every"))
                : Optional.empty();
        if (every.isPresent() && every.get().isZero()) {
            throw r.problem(m.get("every"), "every must be positive");
        }
        if (every.isPresent() != m.containsKey("lasts")) {
            throw r.problem(n, "workload " + kind + ": 'every' and 'lasts' go together (arrivals that end), "
                    + "or neither (always on from 'from' to 'to')");
        }
        Duration jitter = m.containsKey("jitter") ? r.duration(m.get("jitter"), "jitter") : Duration.ZERO;
        Duration lasts = m.containsKey("lasts") ? r.duration(m.get("lasts"), "lasts") : to.minus(from);
        Duration lastsJitter = m.containsKey("lasts-jitter") ? r.duration(m.get("lasts-jitter"), "lasts-jitter")
                : Duration.ZERO;
        return new WorkloadSpec(kind, count, from, to, every, jitter, lasts, lastsJitter);
    }

    private static Policy policy(YamlReader r, Node n, Map<String, ServiceSpec> services) throws ScenarioException {
        Map<String, Node> m = r.mapping(n, "a policy", Set.of("name", "headroom", "per-request", "requests", "priorities"));
        String name = r.text(r.required(m, "name", n, "a policy"), "name");
        Optional<Headroom> headroom = Optional.empty();
        if (m.containsKey("headroom")) {
            Node h = m.get("headroom");
            String t = r.text(h, "headroom").toLowerCase(Locale.ROOT);
            try {
                headroom = Optional.of(t.equals("auto") ? Headroom.auto()
                        : t.endsWith("%") ? Headroom.percent(Double.parseDouble(t.substring(0, t.length() - 1)))
                        : Headroom.fixed(t.equals("0") ? 0 : r.bytes(h, "headroom")));
            } catch (IllegalArgumentException e) {
                throw r.problem(h, "headroom must be auto, a size or a percentage: " + e.getMessage());
            }
        }
        boolean perRequest = !m.containsKey("per-request") || r.bool(m.get("per-request"), "per-request");
        Map<String, Long> requests = new LinkedHashMap<>();
        if (m.containsKey("requests")) {
            for (Map.Entry<String, Node> e : r.namedMapping(m.get("requests"), "requests").entrySet()) {
                checkService(r, e.getValue(), e.getKey(), services);
                requests.put(e.getKey(), r.bytes(e.getValue(), "request of " + e.getKey()));
            }
        }
        Map<String, PriorityClass> priorities = new LinkedHashMap<>();
        if (m.containsKey("priorities")) {
            for (Map.Entry<String, Node> e : r.namedMapping(m.get("priorities"), "priorities").entrySet()) {
                checkService(r, e.getValue(), e.getKey(), services);
                PriorityClass p = priority(r, e.getValue());
                if (p == PriorityClass.CRITICAL && services.get(e.getKey()).preemptible()) {
                    throw r.problem(e.getValue(), "service " + e.getKey() + " is preemptible and cannot be critical");
                }
                priorities.put(e.getKey(), p);
            }
        }
        return new Policy(name, headroom, perRequest, Map.copyOf(requests), Map.copyOf(priorities));
    }

    private static void checkService(YamlReader r, Node at, String name, Map<String, ServiceSpec> services)
            throws ScenarioException {
        if (!services.containsKey(name)) {
            throw r.problem(at, "unknown service '" + name + "' (services: " + String.join(", ", services.keySet()) + ")");
        }
    }

    private static FitSpec fit(YamlReader r, Node n, VramTable table, Map<String, ServiceSpec> services)
            throws ScenarioException {
        Map<String, Node> m = r.mapping(n, "fit", Set.of("streams", "beside"));
        List<String> streams = new ArrayList<>();
        for (Node s : r.sequence(r.required(m, "streams", n, "fit"), "streams")) {
            streams.add(kind(r, s, table, services));
        }
        List<Background> beside = new ArrayList<>();
        for (Node b : r.sequence(r.required(m, "beside", n, "fit"), "beside")) {
            Map<String, Node> bm = r.mapping(b, "a background", Set.of("name", "kinds"));
            String name = r.text(r.required(bm, "name", b, "a background"), "name");
            List<String> kinds = new ArrayList<>();
            for (Node k : r.sequence(r.required(bm, "kinds", b, "background " + name), "kinds")) {
                kinds.add(kind(r, k, table, services));
            }
            beside.add(new Background(name, List.copyOf(kinds)));
        }
        return new FitSpec(List.copyOf(streams), List.copyOf(beside));
    }
}
