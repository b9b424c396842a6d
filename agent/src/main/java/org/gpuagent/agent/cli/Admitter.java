package org.gpuagent.agent.cli;

import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.agent.FailOpenRecord;
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

    record Request(String service, OptionalLong bytes, Duration maxWait, Optional<String> holder, List<Long> pids) {
    }

    /** @return the exit code; on 0 with a lease, the lease id went to stdout when {@code printLease} */
    int admit(ApiClient client, Request r, ClientConfig config, boolean printLease) {
        ApiClient.Response resp;
        try {
            resp = client.call("POST", "/v1/leases", AdmitJson.request(r), r.maxWait().plus(ANSWER_MARGIN));
        } catch (ApiClient.Unreachable e) {
            return unreachable(client, r, e.getMessage(), config);
        } catch (IOException e) {
            ctx.err().println(prefix + ": cannot encode the request: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        AdmitJson.Answer a = AdmitJson.answer(resp.body());
        String message = a.message() != null ? a.message() : "HTTP " + resp.status();
        switch (resp.status()) {
            case 201 -> {
                if (printLease) {
                    ctx.out().println(a.leaseId());
                }
                return ExitCodes.OK;
            }
            case 409, 404 -> {
                ctx.err().println(prefix + ": " + message);
                return ExitCodes.DENIED;
            }
            case 400, 413 -> {
                ctx.err().println(prefix + ": the agent refused the request: " + message);
                return ExitCodes.USAGE;
            }
            default -> {
                return unreachable(client, r, "the agent at " + client.api() + " answered HTTP " + resp.status()
                        + ": " + message, config);
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
