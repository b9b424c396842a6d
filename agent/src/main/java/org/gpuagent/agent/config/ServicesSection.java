package org.gpuagent.agent.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.gpuagent.agent.config.ServiceConfig.FailMode;
import org.gpuagent.agent.config.ServiceConfig.Match;
import org.gpuagent.agent.config.ServiceConfig.Preemption;
import org.gpuagent.scheduler.Misfit;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;

/**
 * Reads and validates {@code services}: each service's priority, request, fail mode, match rules,
 * preemption action and eviction deadline, every problem with its path and line. The rules the
 * ledger owns (priority classes, what a {@link Service} may be, whether the services fit a device)
 * are the scheduler's; this class only says where in the file they are broken.
 *
 * <p>A service with any problem is left out of the result (the configuration is refused anyway),
 * so the fit check sees only services it can judge.
 */
final class ServicesSection {
    private static final Pattern SERVICE_NAME = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,62}$");
    private static final Duration DEFAULT_EVICTION_DEADLINE = Service.DEFAULT_EVICTION_DEADLINE;

    /**
     * The services read, and where a {@link Misfit} about them is reported.
     *
     * @param line         the line of {@code services} (or of what stands for it)
     * @param requestLines each service's {@code request} line
     */
    record Read(List<ServiceConfig> services, int line, Map<String, Integer> requestLines) {
        Read {
            services = List.copyOf(services);
            requestLines = Map.copyOf(requestLines);
        }

        List<Service> scheduled() {
            return services.stream().map(ServiceConfig::service).toList();
        }

        int lineOf(Misfit m) {
            return m.service().map(requestLines::get).orElse(line);
        }
    }

    private ServicesSection() {
    }

    static Read read(YamlSection services, AgentConfig.Reconcile reconcile) {
        List<ServiceConfig> out = new ArrayList<>();
        Map<String, Integer> requestLines = new HashMap<>();
        // unit as systemd spells it -> the service that lists it first: a process in a unit
        // listed twice would be attributed to whichever service comes first, silently.
        Map<String, String> unitOwners = new HashMap<>();
        for (String name : services.keys()) {
            int problemsBefore = services.problemCount();
            YamlSection s = services.section(name);
            String path = s.path();
            if (!SERVICE_NAME.matcher(name).matches()) {
                s.problem(services.lineOf(name), path, "service names are lower-case letters, digits, '-' and '_' (at most 63)");
            }
            PriorityClass priority = PriorityClass.BATCH;
            Optional<String> p = s.scalar("priority");
            if (p.isEmpty()) {
                s.problem(s.line(), path + ".priority", "missing (" + PriorityClass.choices() + ")");
            } else {
                try {
                    priority = PriorityClass.parse(p.get());
                } catch (IllegalArgumentException e) {
                    s.problem(s.lineOf("priority"), path + ".priority", "\"" + p.get() + "\" is not " + PriorityClass.choices());
                }
            }
            long request = 0;
            if (!s.has("request")) {
                s.problem(s.line(), path + ".request", "missing: the VRAM this service asks for by default, including its CUDA context (e.g. 1GiB)");
            } else {
                request = s.size("request", 0);
            }
            FailMode failMode = FailMode.CLOSED;
            Optional<String> fm = s.scalar("fail-mode");
            if (fm.isPresent()) {
                try {
                    failMode = FailMode.valueOf(fm.get().strip().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    s.problem(s.lineOf("fail-mode"), path + ".fail-mode", "\"" + fm.get() + "\" is not open or closed");
                }
            }
            Match match = match(s.section("match"), path, name, unitOwners);
            Preemption preemption = preemption(s, path, priority, match);
            Duration deadline = s.duration("eviction-deadline", DEFAULT_EVICTION_DEADLINE);
            s.finish();
            if (services.problemCount() == problemsBefore) {
                Service service = new Service(name, priority, request, preemption.preemptible(), deadline,
                        reconcile.grace(), reconcile.overUseTolerance());
                out.add(new ServiceConfig(service, failMode, match, preemption));
                requestLines.put(name, s.lineOf("request"));
            }
        }
        return new Read(out, services.line(), requestLines);
    }

    /** The built-in services under this file's {@code reconcile} settings. */
    static List<ServiceConfig> reconciled(List<ServiceConfig> services, AgentConfig.Reconcile reconcile) {
        return services.stream().map(sc -> new ServiceConfig(sc.service().withReconciliationGrace(reconcile.grace())
                .withOverUseTolerance(reconcile.overUseTolerance()), sc.failMode(), sc.match(), sc.preemption()))
                .toList();
    }

    private static Match match(YamlSection m, String path, String name, Map<String, String> unitOwners) {
        Match match = new Match(m.strings("units"), m.strings("containers"));
        for (String unit : match.units()) {
            Optional<String> canonical = UnitNames.canonical(unit);
            if (canonical.isEmpty()) {
                m.problem(m.lineOf("units"), path + ".match.units", UnitNames.problem(unit));
                continue;
            }
            String owner = unitOwners.putIfAbsent(canonical.get(), name);
            if (owner != null && !owner.equals(name)) {
                m.problem(m.lineOf("units"), path + ".match.units", canonical.get()
                        + " is already listed under services." + owner + ".match.units: a process in it "
                        + "would count for " + owner + " only; list each unit under one service");
            }
        }
        for (String container : match.containers()) {
            if (!ContainerNames.valid(container)) {
                m.problem(m.lineOf("containers"), path + ".match.containers", ContainerNames.problem(container));
            }
        }
        m.finish();
        return match;
    }

    /**
     * {@code preemption}: one action ({@code stop-unit}, or a mapping {@code {action, unit|container|url,
     * then}}), or an ordered list of actions ({@code [ollama-unload, stop-unit]}): the first is
     * tried, and each next one when the victim's memory has still not come back (escalation). In
     * the list, and under {@code then}, each action takes its target from the match rules or the
     * default (Ollama's URL).
     */
    private static Preemption preemption(YamlSection s, String path, PriorityClass priority, Match match) {
        if (!s.has("preemption")) {
            s.node("preemption");
            return Preemption.none();
        }
        org.snakeyaml.engine.v2.nodes.Node node = s.node("preemption").orElseThrow();
        int line = s.lineOf("preemption");
        if (node instanceof org.snakeyaml.engine.v2.nodes.SequenceNode) {
            List<String> labels = s.strings("preemption");
            if (labels.isEmpty()) {
                s.problem(line, path + ".preemption", "an empty list; name at least one action, or none");
                return Preemption.none();
            }
            return chain(s, line, path, labels.get(0), Optional.empty(), labels.subList(1, labels.size()), priority,
                    match);
        }
        Optional<String> scalar = node instanceof org.snakeyaml.engine.v2.nodes.ScalarNode sn
                ? Optional.of(sn.getValue()) : Optional.empty();
        if (scalar.isPresent()) {
            return chain(s, line, path, scalar.get().strip(), Optional.empty(), List.of(), priority, match);
        }
        YamlSection p = s.section("preemption");
        String actionText = p.string("action", "");
        Optional<String> url = p.scalar("url");
        Optional<String> unit = p.scalar("unit");
        Optional<String> container = p.scalar("container");
        List<String> then = p.strings("then");
        int actionLine = p.lineOf("action");
        p.finish();
        Optional<Preemption.Action> action = Preemption.Action.fromLabel(actionText);
        Optional<String> target = action.map(a -> switch (a) {
            case OLLAMA_UNLOAD -> url;
            case RESTART_UNIT, STOP_UNIT -> unit;
            case STOP_CONTAINER -> container;
            case NONE -> Optional.<String>empty();
        }).orElse(Optional.empty());
        return chain(s, actionLine, path, actionText, target, then, priority, match);
    }

    /** The first action and the escalation steps after it; {@link Preemption#none()} after a problem. */
    private static Preemption chain(YamlSection s, int line, String path, String first, Optional<String> target,
            List<String> then, PriorityClass priority, Match match) {
        Optional<Preemption> head = step(s, line, path, first, target, priority, match);
        List<Preemption> next = new java.util.ArrayList<>();
        for (String label : then) {
            Optional<Preemption> step = step(s, line, path, label.strip(), Optional.empty(), priority, match);
            if (step.isPresent() && !step.get().preemptible()) {
                s.problem(line, path + ".preemption", "none cannot be an escalation step; list only actions");
            }
            step.filter(Preemption::preemptible).ifPresent(next::add);
        }
        if (head.isEmpty()) {
            return Preemption.none();
        }
        if (!head.get().preemptible() && !then.isEmpty()) {
            s.problem(line, path + ".preemption", "none cannot be followed by other actions");
            return Preemption.none();
        }
        return new Preemption(head.get().action(), head.get().target(), next);
    }

    /** One action with its target (given, else from the match rules or the default); empty after a problem. */
    private static Optional<Preemption> step(YamlSection s, int line, String path, String actionText,
            Optional<String> target, PriorityClass priority, Match match) {
        Optional<Preemption.Action> action = Preemption.Action.fromLabel(actionText);
        if (action.isEmpty()) {
            s.problem(line, path + ".preemption", "\"" + actionText + "\" is not one of none, ollama-unload, restart-unit, stop-unit, stop-container");
            return Optional.empty();
        }
        Preemption.Action a = action.get();
        if (target.isEmpty()) {
            target = switch (a) {
                case OLLAMA_UNLOAD -> Optional.of(ConfigLoader.DEFAULT_OLLAMA_URL);
                case RESTART_UNIT, STOP_UNIT -> match.units().stream().findFirst();
                case STOP_CONTAINER -> match.containers().stream().findFirst();
                case NONE -> Optional.empty();
            };
            if (target.isEmpty() && a != Preemption.Action.NONE) {
                s.problem(line, path + ".preemption", a.label() + " needs a "
                        + (a == Preemption.Action.STOP_CONTAINER ? "container" : "unit")
                        + " (set preemption." + (a == Preemption.Action.STOP_CONTAINER ? "container" : "unit")
                        + " or a match rule)");
            }
        }
        if (target.isPresent() && (a == Preemption.Action.RESTART_UNIT || a == Preemption.Action.STOP_UNIT)
                && UnitNames.canonical(target.get()).isEmpty()) {
            s.problem(line, path + ".preemption.unit", UnitNames.problem(target.get()));
        }
        if (target.isPresent() && a == Preemption.Action.STOP_CONTAINER && !ContainerNames.valid(target.get())) {
            s.problem(line, path + ".preemption.container", ContainerNames.problem(target.get()));
        }
        if (priority == PriorityClass.CRITICAL && a != Preemption.Action.NONE) {
            s.problem(line, path + ".preemption", "critical services are never preempted; remove the preemption action");
        }
        return Optional.of(new Preemption(a, target));
    }
}
