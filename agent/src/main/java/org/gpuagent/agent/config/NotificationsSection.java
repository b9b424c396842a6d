package org.gpuagent.agent.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.gpuagent.agent.notify.HeaderValue;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.notify.Severity;
import org.gpuagent.agent.notify.SinkConfig;
import org.gpuagent.agent.notify.SinkFormat;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * Reads and validates {@code notifications}: {@code instance} and the list {@code webhooks}, each
 * problem with its path and line.
 *
 * <p>Secrets stay out of the configuration: a header whose name says it carries one
 * ({@code Authorization}, {@code X-Gotify-Key}, anything with token, key, secret, password or auth
 * in it) must be given as {@code {file: PATH}}; so must a Gotify token, a Discord webhook URL
 * (its path is the token, so {@code url-file}) and credentials in a URL. A file is checked for
 * existence here (a file this user cannot read is left to the agent, which may run as another
 * user) and read at each delivery, so it can be rotated.
 */
final class NotificationsSection {
    /** Header names {@link java.net.http.HttpClient} refuses or that the format itself sets. */
    private static final Set<String> RESERVED_HEADERS = Set.of("connection", "content-length", "expect", "host",
            "upgrade", "content-type");
    /** RFC 9110 token characters. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}");
    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(token|key|secret|password|auth|cookie).*");
    private static final String GOTIFY_KEY = "X-Gotify-Key";

    private NotificationsSection() {
    }

    static AgentConfig.Notifications read(YamlSection n) {
        Optional<String> instance = n.scalar("instance").map(String::strip);
        if (instance.isPresent() && instance.get().isEmpty()) {
            n.problem(n.lineOf("instance"), "notifications.instance", "must not be empty (leave it out for the "
                    + "host name and the metrics port)");
        }
        List<SinkConfig> sinks = new ArrayList<>();
        for (YamlSection w : n.sections("webhooks")) {
            sink(w).ifPresent(sinks::add);
        }
        n.finish();
        return new AgentConfig.Notifications(instance, sinks);
    }

    private static Optional<SinkConfig> sink(YamlSection w) {
        String path = w.path();
        SinkFormat format = SinkFormat.JSON;
        Optional<String> formatText = w.scalar("format");
        if (formatText.isPresent()) {
            Optional<SinkFormat> f = SinkFormat.parse(formatText.get());
            if (f.isEmpty()) {
                w.problem(w.lineOf("format"), path + ".format", "unknown format \"" + formatText.get() + "\"; known: "
                        + String.join(", ", java.util.Arrays.stream(SinkFormat.values()).map(SinkFormat::label).toList()));
            } else {
                format = f.get();
            }
        }
        int problemsBefore = w.problemCount();

        Optional<URI> url = Optional.empty();
        Optional<Path> urlFile = Optional.empty();
        boolean hasUrl = w.has("url");
        boolean hasUrlFile = w.has("url-file");
        if (hasUrl == hasUrlFile) {
            w.problem(w.line(), path, hasUrl ? "give url or url-file, not both" : "no url (or url-file)");
        }
        if (hasUrl) {
            String text = w.string("url", "").strip();
            url = httpUrl(text, false, w, path + ".url", w.lineOf("url"));
            url.ifPresent(u -> {
                if (u.getRawUserInfo() != null) {
                    w.problem(w.lineOf("url"), path + ".url", "credentials in the URL are a secret in the "
                            + "configuration; send them in a header read from a file (headers: {Authorization: "
                            + "{file: PATH}})");
                }
            });
        }
        if (hasUrlFile) {
            Path f = Path.of(w.string("url-file", "").strip());
            urlFile = Optional.of(f);
            if (existingFile(f, w, path + ".url-file", w.lineOf("url-file"))) {
                try {
                    httpUrl(HeaderValue.FromFile.read(f), true, w, path + ".url-file", w.lineOf("url-file"));
                } catch (AccessDeniedException e) {
                    // read by the agent's user at delivery
                } catch (IOException e) {
                    w.problem(w.lineOf("url-file"), path + ".url-file", e.getMessage());
                }
            }
        }

        List<String> events = w.strings("events");
        for (String ev : events) {
            if (NotificationEvent.byLabel(ev).isEmpty()) {
                w.problem(w.lineOf("events"), path + ".events", "unknown event \"" + ev + "\"; known: "
                        + String.join(", ", NotificationEvent.labels()));
            }
        }
        Severity minSeverity = Severity.INFO;
        Optional<String> sev = w.scalar("min-severity");
        if (sev.isPresent()) {
            Optional<Severity> s = Severity.parse(sev.get());
            if (s.isEmpty()) {
                w.problem(w.lineOf("min-severity"), path + ".min-severity", "\"" + sev.get()
                        + "\" is none of info, warning, critical");
            } else {
                minSeverity = s.get();
            }
        }
        Duration timeout = w.duration("timeout", SinkConfig.DEFAULT_TIMEOUT);
        if (timeout.isZero() || timeout.isNegative()) {
            w.problem(w.lineOf("timeout"), path + ".timeout", "must be more than 0");
        }
        Duration resolveAfter = w.duration("resolve-after", SinkConfig.DEFAULT_RESOLVE_AFTER);
        if (w.has("resolve-after") && format != SinkFormat.ALERTMANAGER) {
            w.problem(w.lineOf("resolve-after"), path + ".resolve-after", "only an alertmanager sink resolves alerts");
        } else if (resolveAfter.isZero() || resolveAfter.isNegative()) {
            w.problem(w.lineOf("resolve-after"), path + ".resolve-after", "must be more than 0");
        }
        Map<String, HeaderValue> headers = headers(w.section("headers"));

        switch (format) {
            case NTFY -> url.ifPresent(u -> {
                String p = u.getRawPath() == null ? "" : u.getRawPath();
                if (p.isEmpty() || p.endsWith("/")) {
                    w.problem(w.lineOf("url"), path + ".url", "an ntfy URL names its topic: https://ntfy.example/TOPIC");
                }
            });
            case GOTIFY -> {
                boolean keyFromFile = headers.entrySet().stream().anyMatch(h -> h.getKey().equalsIgnoreCase(GOTIFY_KEY)
                        && h.getValue() instanceof HeaderValue.FromFile);
                if (!keyFromFile) {
                    w.problem(w.lineOf("headers"), path + ".headers", "a gotify sink needs its application token: "
                            + "headers: {" + GOTIFY_KEY + ": {file: PATH}}");
                }
                url.filter(u -> u.getRawQuery() != null && u.getRawQuery().contains("token="))
                        .ifPresent(u -> w.problem(w.lineOf("url"), path + ".url", "the token in the URL is a secret "
                                + "in the configuration; send it as headers: {" + GOTIFY_KEY + ": {file: PATH}}"));
            }
            case DISCORD -> {
                if (hasUrl) {
                    w.problem(w.lineOf("url"), path + ".url", "a Discord webhook URL carries its token: put it "
                            + "in a file and give url-file");
                }
            }
            default -> {
            }
        }
        w.finish();
        if (w.problemCount() > problemsBefore) {
            return Optional.empty();
        }
        return Optional.of(new SinkConfig(url, urlFile, format,
                events.isEmpty() ? NotificationEvent.labels() : events, minSeverity, timeout, headers, resolveAfter));
    }

    private static Map<String, HeaderValue> headers(YamlSection h) {
        Map<String, HeaderValue> out = new LinkedHashMap<>();
        for (String name : h.keys()) {
            String path = h.path() + "." + name;
            int line = h.lineOf(name);
            Node value = h.node(name).orElse(null);
            if (!HEADER_NAME.matcher(name).matches()) {
                h.problem(line, path, "\"" + name + "\" is not a header name");
                continue;
            }
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                h.problem(line, path, "the agent sets " + name + " itself");
                continue;
            }
            if (value instanceof ScalarNode s) {
                if (SECRET_NAME.matcher(name).matches()) {
                    h.problem(line, path, name + " carries a secret: give it as {file: PATH}, not in the configuration");
                    continue;
                }
                out.put(name, new HeaderValue.Literal(s.getValue()));
            } else if (value instanceof MappingNode) {
                YamlSection v = h.section(name);
                Path f = Path.of(v.string("file", "").strip());
                v.finish();
                if (existingFile(f, h, path + ".file", line)) {
                    try {
                        HeaderValue.FromFile.read(f);
                    } catch (AccessDeniedException e) {
                        // read by the agent's user at delivery
                    } catch (IOException e) {
                        h.problem(line, path + ".file", e.getMessage());
                    }
                }
                out.put(name, new HeaderValue.FromFile(f));
            } else {
                h.problem(line, path, "expected a value or {file: PATH}");
            }
        }
        return out;
    }

    private static boolean existingFile(Path f, YamlSection at, String path, int line) {
        if (f.toString().isEmpty() || !f.isAbsolute()) {
            at.problem(line, path, "\"" + f + "\" must be an absolute path");
            return false;
        }
        if (!Files.exists(f)) {
            at.problem(line, path, "no such file: " + f);
            return false;
        }
        return true;
    }

    /** @param secret the text came from a file: a problem must not repeat it */
    private static Optional<URI> httpUrl(String text, boolean secret, YamlSection at, String path, int line) {
        String shown = secret ? "the file's URL" : "\"" + text + "\"";
        try {
            URI uri = new URI(text);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                at.problem(line, path, shown + " is not an http(s) URL");
                return Optional.empty();
            }
            return Optional.of(uri);
        } catch (URISyntaxException ex) {
            at.problem(line, path, shown + " is not a URL" + (secret ? "" : ": " + ex.getReason()));
            return Optional.empty();
        }
    }
}
