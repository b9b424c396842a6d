package org.gpuagent.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.api.ApiToken;
import org.gpuagent.agent.config.HostPort;

/**
 * The CLI's side of the API. Plain {@link HttpURLConnection}: a client command is a short-lived
 * process, and {@code java.net.http} costs a selector thread and tens of milliseconds of class
 * loading that an {@code ExecStartPre} should not pay.
 *
 * <p>For the same reason a request that succeeds concatenates no strings with {@code +}: the first
 * such concatenation in a JVM links {@code StringConcatFactory}, about 15 ms of an admission's
 * 70 (docs/benchmarks-and-capacity.md, "gpu-agent admit without -XDstringConcat=inline").
 * {@code QuickAdmitStartupTest} holds the admit path
 * to it; error paths may concatenate freely.
 */
final class ApiClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final String API_ENV = "GPU_AGENT_API";
    static final String DEFAULT_API = "127.0.0.1:9849";

    private final HostPort api;
    private final Path stateDir;
    /** The client the agent's configuration names, when it names another address or state directory. */
    private final Supplier<Optional<ApiClient>> configured;
    private Optional<ApiClient> configuredClient;

    ApiClient(HostPort api, Path stateDir) {
        this(api, stateDir, Optional::empty);
    }

    private ApiClient(HostPort api, Path stateDir, Supplier<Optional<ApiClient>> configured) {
        this.api = api;
        this.stateDir = stateDir;
        this.configured = configured;
    }

    /**
     * The client for {@code --api} (else {@code $GPU_AGENT_API}, else {@value #DEFAULT_API}; a
     * wildcard host means this machine) and {@code --state-dir}.
     *
     * @throws IllegalArgumentException when the address is not HOST:PORT
     */
    static ApiClient resolve(String api, Path stateDir, CliContext ctx) {
        return resolve(api, stateDir, ctx, ClientConfig.load(Optional.empty()));
    }

    /**
     * As {@link #resolve(String, Path, CliContext)}, with the agent's configuration between the
     * environment and the defaults: {@code --api}, else {@code $GPU_AGENT_API}, else the
     * configuration's {@code listen.api}, else {@value #DEFAULT_API}; {@code --state-dir}, else
     * {@code $GPU_AGENT_STATE_DIR}, else its {@code state-dir}, else the usual places: the order
     * the daemon uses, so a client given the daemon's {@code --config} finds the daemon. The file
     * is read lazily: the defaults are tried first, and only when the agent cannot be reached
     * there is the configured address (if it differs) tried instead ({@link #call}).
     */
    static ApiClient resolve(String api, Path stateDir, CliContext ctx, ClientConfig config) {
        String fromEnv = ctx.env().get(API_ENV);
        boolean apiGiven = api != null || fromEnv != null && !fromEnv.isBlank();
        String stateFromEnv = ctx.env().get(StateDirectory.ENV);
        boolean stateGiven = stateDir != null || stateFromEnv != null && !stateFromEnv.isBlank();
        HostPort hp = local(HostPort.parse(api != null ? api : apiGiven ? fromEnv : DEFAULT_API));
        Path dir = StateDirectory.resolveForClient(Optional.ofNullable(stateDir), ctx.env());
        if (!config.given() || apiGiven && stateGiven) {
            return new ApiClient(hp, dir);
        }
        HostPort primaryApi = hp;
        return new ApiClient(hp, dir, () -> {
            HostPort configuredApi = primaryApi;
            if (!apiGiven && config.api().isPresent()) {
                try {
                    configuredApi = local(HostPort.parse(config.api().get()));
                } catch (IllegalArgumentException e) {
                    return Optional.empty();
                }
            }
            Path configuredDir = dir;
            if (!stateGiven && config.stateDir().isPresent()) {
                configuredDir = config.stateDir().get();
            }
            return configuredApi.equals(primaryApi) && configuredDir.equals(dir) ? Optional.empty()
                    : Optional.of(new ApiClient(configuredApi, configuredDir));
        });
    }

    private static HostPort local(HostPort hp) {
        return hp.host().equals("0.0.0.0") || hp.host().equals("::") ? new HostPort("127.0.0.1", hp.port()) : hp;
    }

    private Optional<ApiClient> configured() {
        if (configuredClient == null) {
            configuredClient = configured.get();
        }
        return configuredClient;
    }

    /**
     * Where a fail-open admission is recorded: the state directory the agent's configuration
     * names, else the one the token is read from.
     */
    Path stateDir() {
        return configured().map(c -> c.stateDir).orElse(stateDir);
    }

    /** The address the agent was (or would have been) asked at, for messages. */
    HostPort api() {
        return configuredClient != null && configuredClient.isPresent() ? configuredClient.get().api : api;
    }

    /** The agent cannot be asked: refused, timed out, no token, or it answered like no agent. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    record Response(int status, String body) {
        Map<String, Object> json() {
            try {
                Map<String, Object> m = JSON.std.mapFrom(body);
                return m == null ? Map.of() : m;
            } catch (IOException e) {
                return Map.of();
            }
        }

        /** The error body's message, or the status line when there is none. */
        String message() {
            Object m = json().get("message");
            return m instanceof String s ? s : "HTTP " + status;
        }

        String error() {
            Object e = json().get("error");
            return e instanceof String s ? s : "";
        }
    }

    /** "the agent at HOST:PORT answered HTTP 500: MESSAGE": an answer the command cannot use. */
    String answered(Response r) {
        return "the agent at " + api + " answered HTTP " + r.status() + ": " + r.message();
    }

    /**
     * One request. When the agent cannot be reached at this client's address and state directory
     * and the agent's configuration names others, the request goes there instead (it never
     * reached an agent, so it is not sent twice).
     */
    Response call(String method, String pathAndQuery, String jsonBody, Duration readTimeout) throws Unreachable {
        try {
            return callHere(method, pathAndQuery, jsonBody, readTimeout);
        } catch (Unreachable e) {
            Optional<ApiClient> other = configured();
            if (other.isEmpty()) {
                throw e;
            }
            return other.get().call(method, pathAndQuery, jsonBody, readTimeout);
        }
    }

    private Response callHere(String method, String pathAndQuery, String jsonBody, Duration readTimeout)
            throws Unreachable {
        String token;
        try {
            token = ApiToken.read(stateDir).value();
        } catch (NoSuchFileException e) {
            throw new Unreachable("no API token at " + stateDir.resolve(ApiToken.FILE_NAME)
                    + " (has the agent run with this state directory? pass --state-dir)");
        } catch (IOException e) {
            throw new Unreachable("cannot read the API token " + stateDir.resolve(ApiToken.FILE_NAME) + ": "
                    + e.getMessage());
        }
        if (method.equals("PATCH")) {
            return patch(token, pathAndQuery, jsonBody, readTimeout);
        }
        HttpURLConnection c;
        try {
            // java.net.URL puts an IPv6 host in brackets itself
            c = (HttpURLConnection) new URL("http", api.host(), api.port(), pathAndQuery).openConnection();
        } catch (IOException | IllegalArgumentException e) {
            throw new Unreachable("bad API address " + api + ": " + e.getMessage());
        }
        try {
            c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            c.setReadTimeout((int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()));
            c.setRequestMethod(method);
            c.setUseCaches(false);
            c.setRequestProperty("Authorization", "Bearer ".concat(token));
            c.setRequestProperty("Accept", "application/json");
            if (jsonBody != null) {
                byte[] b = jsonBody.getBytes(StandardCharsets.UTF_8);
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(b.length);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(b);
                }
            }
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            String body = "";
            if (in != null) {
                try (in) {
                    body = new String(in.readNBytes(4 << 20), StandardCharsets.UTF_8);
                }
            }
            return new Response(status, body);
        } catch (IOException e) {
            throw new Unreachable("cannot reach the agent at " + api + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
        } finally {
            c.disconnect();
        }
    }

    /**
     * PATCH, which {@link HttpURLConnection} refuses to send: through {@code java.net.http} (its
     * start-up cost is paid only by {@code gpu-agent resize}, not by the admit path).
     */
    private Response patch(String token, String path, String jsonBody, Duration readTimeout) throws Unreachable {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        try {
            java.net.URI uri = new URL("http", api.host(), api.port(), path).toURI();
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(uri).timeout(readTimeout)
                    .header("Authorization", "Bearer " + token).header("Accept", "application/json")
                    .header("Content-Type", "application/json")
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(jsonBody == null ? "" : jsonBody))
                    .build();
            java.net.http.HttpResponse<String> r = http.send(request,
                    java.net.http.HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body());
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw new Unreachable("bad API address " + api + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted while asking the agent at " + api);
        } catch (IOException e) {
            throw new Unreachable("cannot reach the agent at " + api + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
        }
    }
}
