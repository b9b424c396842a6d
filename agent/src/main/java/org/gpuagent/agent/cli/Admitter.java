package org.gpuagent.agent.cli;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.agent.config.ServiceConfig;

/**
 * Asks the agent for a lease, for {@code gpu-agent admit} and the OCI hook, and applies the
 * fail-open rule: when the agent cannot be reached, a service whose {@code fail-mode} is
 * {@code open} (read from {@code --config}, else the built-in default) goes ahead with a warning
 * and exit 0, and the admission is appended to the state directory's {@link FailOpenRecord} so
 * that the agent reports it when it is back; any other exits 4. "Cannot be reached" covers a
 * refused or timed-out connection, a missing or unreadable token, and an answer no agent gives
 * (401, 5xx): in each case the agent could not be consulted.
 */
final class Admitter {
    /** Beyond the wait: a preemption may wait for the victims' eviction deadline even with no wait. */
    static final Duration ANSWER_MARGIN = Duration.ofSeconds(90);

    private final CliContext ctx;
    private final String prefix;
    private final InstantSource clock;

    /** @param prefix starts every stderr line, e.g. {@code gpu-agent} or {@code gpu-agent hook} */
    Admitter(CliContext ctx, String prefix) {
        this(ctx, prefix, InstantSource.system());
    }

    Admitter(CliContext ctx, String prefix, InstantSource clock) {
        this.ctx = ctx;
        this.prefix = prefix;
        this.clock = clock;
    }

    /**
     * @param signature  what kind of work the lease is for ({@code ffmpeg:...}, {@code exec:<program>}):
     *                   the agent learns the lease's peak under it
     * @param autoBytes  let the agent size the lease ({@code "bytes":"auto"}): its learned peak for the
     *                   signature, else its estimate table, else the service's request
     */
    record Request(String service, OptionalLong bytes, Duration maxWait, Optional<String> holder, List<Long> pids,
            Optional<String> signature, boolean autoBytes) {
        Request(String service, OptionalLong bytes, Duration maxWait, Optional<String> holder, List<Long> pids) {
            this(service, bytes, maxWait, holder, pids, Optional.empty(), false);
        }

        Request withMaxWait(Duration w) {
            return new Request(service, bytes, w, holder, pids, signature, autoBytes);
        }
    }

    /**
     * How an admission ended: the exit code, and the lease when one was granted (a fail-open
     * admission exits 0 without one).
     */
    record Result(int exit, Optional<String> leaseId) {
    }

    /** Waits between tries of a request the agent turned away for load (HTTP 429). */
    @FunctionalInterface
    interface Pause {
        void sleep(Duration d) throws InterruptedException;
    }

    private Pause pause = d -> Thread.sleep(d.toMillis());

    Admitter pausingWith(Pause p) {
        this.pause = p;
        return this;
    }

    /** First pause after a 429; each next one doubles, up to {@link #MAX_BUSY_PAUSE}. */
    static final Duration FIRST_BUSY_PAUSE = Duration.ofMillis(100);
    static final Duration MAX_BUSY_PAUSE = Duration.ofSeconds(2);

    /** @return the exit code; on 0 with a lease, the lease id went to stdout when {@code printLease} */
    int admit(ApiClient client, Request r, ClientConfig config, boolean printLease) {
        Result res = request(client, r, config);
        if (printLease && res.leaseId().isPresent()) {
            ctx.out().println(res.leaseId().get());
        }
        return res.exit();
    }

    /**
     * Asks for the lease. An HTTP 429 (the agent has too many requests waiting, or too many
     * connections) is no answer about the lease and no sign the agent is gone: the request is sent
     * again after a pause (100 ms, doubling to 2 s, never past the wait's end) with what is left of its
     * wait, the last time with none left; then the admission is denied (exit 3) with the agent's
     * reason. With no wait it is asked once.
     */
    Result request(ApiClient client, Request r, ClientConfig config) {
        Instant deadline = clock.instant().plus(r.maxWait());
        Duration busyPause = FIRST_BUSY_PAUSE;
        Request attempt = r;
        while (true) {
            ApiClient.Response resp;
            try {
                resp = client.call("POST", "/v1/leases", AdmitJson.request(attempt),
                        attempt.maxWait().plus(ANSWER_MARGIN));
            } catch (ApiClient.Unreachable e) {
                return new Result(unreachable(client, r, e.getMessage(), config), Optional.empty());
            } catch (IOException e) {
                ctx.err().println(prefix + ": cannot encode the request: " + e.getMessage());
                return new Result(ExitCodes.USAGE, Optional.empty());
            }
            AdmitJson.Answer a = AdmitJson.answer(resp.body());
            String message = a.message() != null ? a.message() : "HTTP " + resp.status();
            switch (resp.status()) {
                case 201 -> {
                    return new Result(ExitCodes.OK, Optional.ofNullable(a.leaseId()));
                }
                case 409, 404 -> {
                    ctx.err().println(prefix + ": " + message);
                    return new Result(ExitCodes.DENIED, Optional.empty());
                }
                case 400, 413 -> {
                    ctx.err().println(prefix + ": the agent refused the request: " + message);
                    return new Result(ExitCodes.USAGE, Optional.empty());
                }
                case 429 -> {
                    Duration left = Duration.between(clock.instant(), deadline);
                    if (left.compareTo(Duration.ZERO) <= 0) {
                        ctx.err().println(prefix + ": the agent is busy (" + message + ") and the wait of "
                                + Durations.format(r.maxWait()) + " has run out; " + r.service() + " is not admitted");
                        return new Result(ExitCodes.DENIED, Optional.empty());
                    }
                    try {
                        pause.sleep(left.compareTo(busyPause) < 0 ? left : busyPause);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        ctx.err().println(prefix + ": interrupted while the agent was busy; " + r.service()
                                + " is not admitted");
                        return new Result(ExitCodes.DENIED, Optional.empty());
                    }
                    attempt = r.withMaxWait(Duration.between(clock.instant(), deadline).isNegative() ? Duration.ZERO
                            : Duration.between(clock.instant(), deadline));
                    busyPause = busyPause.multipliedBy(2).compareTo(MAX_BUSY_PAUSE) > 0 ? MAX_BUSY_PAUSE
                            : busyPause.multipliedBy(2);
                }
                default -> {
                    return new Result(unreachable(client, r, "the agent at " + client.api() + " answered HTTP "
                            + resp.status() + ": " + message, config), Optional.empty());
                }
            }
        }
    }

    private int unreachable(ApiClient client, Request r, String why, ClientConfig config) {
        ClientConfig.FailMode mode = config.failMode(r.service());
        if (mode.mode() == ServiceConfig.FailMode.OPEN) {
            String recorded;
            try {
                boolean written = FailOpenRecord.append(client.stateDir(),
                        new FailOpenRecord.Entry(clock.instant(), r.service(), r.holder(), why));
                recorded = written ? "recorded in " + FailOpenRecord.file(client.stateDir())
                        + " for the agent to report when it is back"
                        : "counted in " + client.stateDir() + " (the record is full) for the agent to report";
            } catch (IOException | RuntimeException e) {
                recorded = "and it could not be recorded (" + FailOpenRecord.file(client.stateDir()) + ": " + e + ")";
            }
            ctx.err().println(prefix + ": warning: " + why + "; " + r.service() + " is fail-open (" + mode.source()
                    + "), so it starts without a lease; " + recorded);
            return ExitCodes.OK;
        }
        ctx.err().println(prefix + ": " + why + "; " + r.service() + " is fail-closed (" + mode.source()
                + "), so it must not start");
        return ExitCodes.UNREACHABLE;
    }
}
