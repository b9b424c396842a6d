package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The Ollama admission proxy as the agent runs it: the listener ({@link OllamaProxy}), the model
 * leases ({@link ModelLeases}, adopted from the ledger at start) and the poller that asks
 * {@code /api/ps} every {@code ps-interval} on a thread of its own (a slow Ollama delays nobody
 * else).
 */
public final class OllamaAdmission implements AutoCloseable {
    /** How long one of the proxy's own calls to Ollama ({@code /api/ps}, {@code /api/show}) may take. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    /** How long a request body that names a model may take to arrive. */
    static final Duration BODY_TIMEOUT = Duration.ofSeconds(30);

    private final ScheduledExecutorService poller;
    private final OllamaProxy proxy;
    private final ModelLeases leases;
    /** Touched only on the poller's thread. */
    private String lastPoll = "";

    private OllamaAdmission(ScheduledExecutorService poller, OllamaProxy proxy, ModelLeases leases) {
        this.poller = poller;
        this.proxy = proxy;
        this.leases = leases;
    }

    public static OllamaAdmission start(AgentConfig.OllamaProxy cfg, ModelLedger ledger, ModelSizes learned,
            InstantSource clock) throws IOException {
        return start(cfg, ledger, learned, clock, BODY_TIMEOUT);
    }

    /** @param bodyTimeout how long a request body that names a model may take to arrive */
    static OllamaAdmission start(AgentConfig.OllamaProxy cfg, ModelLedger ledger, ModelSizes learned,
            InstantSource clock, Duration bodyTimeout) throws IOException {
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ollama-ps");
            t.setDaemon(true);
            return t;
        });
        try {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
            OllamaUpstream upstream = new OllamaUpstream(cfg.upstream(), http, CALL_TIMEOUT);
            ModelLeases leases = new ModelLeases(ledger, upstream, learned, new ModelLeases.Settings(
                    cfg.minModelBytes(), cfg.maxWait(), cfg.psInterval().dividedBy(2)), clock);
            int adopted = leases.adopt();
            InetSocketAddress at = cfg.listen().toSocketAddress();
            OllamaProxy proxy = OllamaProxy.start(at, upstream, leases, new OllamaProxy.Limits(cfg.maxBodyBytes(),
                    bodyTimeout), poller);
            OllamaAdmission a = new OllamaAdmission(poller, proxy, leases);
            poller.scheduleWithFixedDelay(a::pollOnce, 0, cfg.psInterval().toMillis(), TimeUnit.MILLISECONDS);
            DaemonLog.info("ollama proxy: http://" + cfg.listen() + " in front of " + cfg.upstream()
                    + (adopted > 0 ? "; " + adopted + " model lease(s) adopted from the ledger" : ""));
            return a;
        } catch (IOException | RuntimeException e) {
            poller.shutdownNow();
            throw e;
        }
    }

    private void pollOnce() {
        try {
            String did = leases.poll();
            // a problem is told when it starts, not at every poll while it lasts
            if (!did.isEmpty() && !did.equals(lastPoll)) {
                DaemonLog.info("ollama: " + did.strip());
            }
            lastPoll = did;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            DaemonLog.warn("ollama: polling /api/ps failed", e);
        }
    }

    public InetSocketAddress address() {
        return proxy.address();
    }

    public ModelLeases leases() {
        return leases;
    }

    @Override
    public void close() {
        proxy.close();
        poller.shutdownNow();
    }
}
