package org.gpuagent.agent.daemon;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * One {@code java.net.http} client for everything the daemon calls over HTTP (Ollama's unload,
 * webhooks), made on first use: it costs a selector thread and some memory that an agent with
 * neither never pays. Redirects are not followed: an actuator or a receiver that redirects is
 * misconfigured, and following it could send a notification's contents elsewhere.
 */
final class SharedHttpClient implements Supplier<HttpClient> {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private volatile HttpClient client;

    @Override
    public HttpClient get() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    c = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                            .followRedirects(HttpClient.Redirect.NEVER).build();
                    client = c;
                }
            }
        }
        return c;
    }
}
