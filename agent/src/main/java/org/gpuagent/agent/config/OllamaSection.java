package org.gpuagent.agent.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.gpuagent.scheduler.ByteSize;

/**
 * Reads and validates {@code ollama}, the Ollama admission proxy: absent, the proxy is off.
 * Every problem with its path and line.
 */
final class OllamaSection {
    static final Duration DEFAULT_PS_INTERVAL = Duration.ofSeconds(2);
    static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);
    static final long DEFAULT_MIN_MODEL_BYTES = 512 * ByteSize.MIB;
    static final long DEFAULT_MAX_BODY_BYTES = 64 * ByteSize.MIB;

    private OllamaSection() {
    }

    /**
     * @param services the configured services: {@code ollama.service} must name one of them
     * @param taken    the metrics and API listeners, which the proxy cannot share
     */
    static Optional<AgentConfig.OllamaProxy> read(YamlSection top, List<ServiceConfig> services,
            List<HostPort> taken) {
        if (!top.has("ollama")) {
            top.node("ollama");
            return Optional.empty();
        }
        YamlSection o = top.section("ollama");
        HostPort listen = o.hostPort("listen", new HostPort("127.0.0.1", 11435));
        if (!o.has("listen")) {
            o.problem(o.lineOf("listen"), "ollama.listen", "is required: where clients reach the proxy, "
                    + "e.g. 127.0.0.1:11435");
        }
        for (HostPort t : taken) {
            if (listen.port() != 0 && listen.port() == t.port() && listen.host().equals(t.host())) {
                o.problem(o.lineOf("listen"), "ollama.listen", "cannot share " + t + " with another listener");
            }
        }
        URI upstream = URI.create("http://127.0.0.1:11434");
        Optional<String> u = o.scalar("upstream").map(String::strip);
        if (u.isEmpty()) {
            o.problem(o.lineOf("upstream"), "ollama.upstream", "is required: Ollama's own URL, e.g. "
                    + ConfigLoader.DEFAULT_OLLAMA_URL);
        } else {
            try {
                URI parsed = new URI(u.get());
                if (!("http".equals(parsed.getScheme()) || "https".equals(parsed.getScheme()))
                        || parsed.getHost() == null || parsed.getRawQuery() != null || parsed.getRawFragment() != null
                        || parsed.getRawUserInfo() != null) {
                    o.problem(o.lineOf("upstream"), "ollama.upstream", "\"" + u.get()
                            + "\" is not an http(s) URL with a host and nothing after the path, e.g. "
                            + ConfigLoader.DEFAULT_OLLAMA_URL);
                } else {
                    upstream = parsed;
                }
            } catch (URISyntaxException e) {
                o.problem(o.lineOf("upstream"), "ollama.upstream", "\"" + u.get() + "\" is not a URL: "
                        + e.getReason());
            }
        }
        String service = o.string("service", "ollama").strip();
        if (services.stream().noneMatch(s -> s.name().equals(service))) {
            o.problem(o.lineOf("service"), "ollama.service", "\"" + service + "\" is not a configured service "
                    + "(the model leases take its priority; configured: "
                    + String.join(", ", services.stream().map(ServiceConfig::name).toList()) + ")");
        }
        long minModel = o.size("min-model-bytes", DEFAULT_MIN_MODEL_BYTES);
        Duration ps = o.duration("ps-interval", DEFAULT_PS_INTERVAL);
        if (ps.compareTo(Duration.ofMillis(100)) < 0 || ps.compareTo(Duration.ofMinutes(5)) > 0) {
            o.problem(o.lineOf("ps-interval"), "ollama.ps-interval", Durations.format(ps)
                    + " is outside 100ms-5m (how often GET /api/ps is asked which models are loaded)");
            ps = DEFAULT_PS_INTERVAL;
        }
        Duration wait = o.duration("wait", DEFAULT_WAIT);
        if (wait.compareTo(Duration.ofHours(1)) > 0) {
            o.problem(o.lineOf("wait"), "ollama.wait", Durations.format(wait)
                    + " is more than 1h (how long a request waits for its model's memory)");
            wait = DEFAULT_WAIT;
        }
        long maxBody = o.size("max-body", DEFAULT_MAX_BODY_BYTES);
        if (maxBody < 1024 || maxBody > 1024 * ByteSize.MIB) {
            o.problem(o.lineOf("max-body"), "ollama.max-body", ByteSize.format(maxBody)
                    + " is outside 1KiB-1GiB (the largest request body that names a model)");
            maxBody = DEFAULT_MAX_BODY_BYTES;
        }
        o.finish();
        return Optional.of(new AgentConfig.OllamaProxy(listen, upstream, service, minModel, ps, wait, maxBody));
    }
}
