package org.gpuagent.agent.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.ServiceConfig;

/**
 * Asks the agent for a lease, for {@code gpu-agent admit} and the OCI hook, and applies the
 * fail-open rule: when the agent cannot be reached, a service whose {@code fail-mode} is
 * {@code open} (read from {@code --config}, else the built-in default) goes ahead with a warning
 * and exit 0; any other exits 4. "Cannot be reached" covers a refused or timed-out connection, a
 * missing or unreadable token, and an answer no agent gives (401, 5xx): in each case the agent
 * could not be consulted.
 */
final class Admitter {
    /** Beyond the wait: a preemption may wait for the victims' eviction deadline even with no wait. */
    static final Duration ANSWER_MARGIN = Duration.ofSeconds(90);

    private final CliContext ctx;
    private final String prefix;

    /** @param prefix starts every stderr line, e.g. {@code gpu-agent} or {@code gpu-agent hook} */
    Admitter(CliContext ctx, String prefix) {
        this.ctx = ctx;
        this.prefix = prefix;
    }

    record Request(String service, OptionalLong bytes, Duration maxWait, Optional<String> holder, List<Long> pids) {
    }

    /** @return the exit code; on 0 with a lease, the lease id went to stdout when {@code printLease} */
    int admit(ApiClient client, Request r, Optional<Path> config, boolean printLease) {
        ApiClient.Response resp;
        try {
            resp = client.call("POST", "/v1/leases", AdmitJson.request(r), r.maxWait().plus(ANSWER_MARGIN));
        } catch (ApiClient.Unreachable e) {
            return unreachable(r.service(), e.getMessage(), config);
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
                return unreachable(r.service(), "the agent at " + client.api() + " answered HTTP " + resp.status()
                        + ": " + message, config);
            }
        }
    }

    private int unreachable(String service, String why, Optional<Path> configFile) {
        ServiceConfig.FailMode mode = ServiceConfig.FailMode.CLOSED;
        String source;
        try {
            AgentConfig c = configFile.isPresent() ? ConfigLoader.load(configFile.get()) : ConfigLoader.builtInDefault();
            source = configFile.map(Path::toString).orElse("the built-in default");
            Optional<ServiceConfig> s = c.service(service);
            if (s.isPresent()) {
                mode = s.get().failMode();
            } else {
                source = source + ", which does not list " + service;
            }
        } catch (ConfigException e) {
            source = configFile.get() + ", which cannot be read (" + e.problems().get(0) + ")";
        }
        if (mode == ServiceConfig.FailMode.OPEN) {
            ctx.err().println(prefix + ": warning: " + why + "; " + service + " is fail-open (" + source
                    + "), so it starts without a lease");
            return ExitCodes.OK;
        }
        ctx.err().println(prefix + ": " + why + "; " + service + " is fail-closed (" + source + "), so it must not start");
        return ExitCodes.UNREACHABLE;
    }
}
