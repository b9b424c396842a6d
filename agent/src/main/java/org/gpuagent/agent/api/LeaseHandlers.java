package org.gpuagent.agent.api;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.gpuagent.agent.attribution.HolderNames;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Admission;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Forecast;
import org.gpuagent.scheduler.JournalUnavailableException;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.Service;

/**
 * What {@code /v1/leases} does, once {@link ApiServer} has routed and authorized the request: list,
 * look up, admit, release by id or by holder. Each answers a response or throws the
 * {@link ApiError} to answer.
 *
 * <p>The give-up path is exact: a request that its client abandons (the connection closes while it
 * waits, or before the answer is written) or that its own limit ends either leaves no lease or hands
 * the lease back. A grant that races the withdrawal is answered 201 when the client is still there
 * and released when it is not; nothing granted goes unreported. A request that has to wait (in the
 * queue, or for a preempted service's memory) blocks its connection, not the ledger; at most
 * {@link ApiServer#MAX_WAITING} may do so at once, and every {@value #CLIENT_CHECK_MS} ms each looks
 * whether its client is still connected.
 */
final class LeaseHandlers {
    /** How often a waiting request looks whether its client is still connected. */
    static final long CLIENT_CHECK_MS = 100;
    /** Beyond waitMs and eviction deadlines: when the ledger has still not answered, something is wrong. */
    private static final Duration ANSWER_SLACK = Duration.ofSeconds(30);

    private final AdmissionController ledger;
    private final Runnable ledgerChanged;
    private final Semaphore waiting;
    private final Duration longestEviction;

    /**
     * @param ledgerChanged called after each request that may have changed the ledger
     * @param waiting       permits of requests that may wait at once
     */
    LeaseHandlers(AdmissionController ledger, Runnable ledgerChanged, Semaphore waiting) {
        this.ledger = ledger;
        this.ledgerChanged = ledgerChanged;
        this.waiting = waiting;
        this.longestEviction = ledger.config().services().stream().map(Service::evictionDeadline)
                .max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /** {@code GET /v1/leases}. */
    ApiExchange.Response list() {
        return ApiExchange.Response.json(200, Map.of("leases", LeaseJson.of(ledger.view().leases())));
    }

    /** {@code GET /v1/leases/{id}}. */
    ApiExchange.Response get(LeaseId id) throws ApiError {
        Lease l = ledger.view().lease(id).orElseThrow(() -> new ApiError(404, "no_such_lease",
                "lease " + id + " is not held (released, or never granted)"));
        return ApiExchange.Response.json(200, LeaseJson.of(l));
    }

    /** {@code DELETE /v1/leases/{id}}: 204 once the release is durable, also for a lease not held. */
    ApiExchange.Response release(LeaseId id) throws ApiError {
        join(ledger.release(id));
        ledgerChanged.run();
        return ApiExchange.Response.noContent();
    }

    /** {@code DELETE /v1/leases?holder=ID}: every lease of the holder, 204 once durable. */
    ApiExchange.Response releaseHolder(String holder) throws ApiError {
        if (holder == null || holder.isBlank()) {
            throw ApiError.badRequest("DELETE /v1/leases needs ?holder=ID (or use DELETE /v1/leases/{id})");
        }
        Optional<String> problem = HolderNames.problem(holder);
        if (problem.isPresent()) {
            throw ApiError.badRequest("holder " + problem.get());
        }
        join(ledger.releaseHolder(holder));
        ledgerChanged.run();
        return ApiExchange.Response.noContent();
    }

    /** {@code POST /v1/leases}: decided now, or after waiting while the client stays. */
    ApiExchange.Response admit(ApiExchange.Request ex) throws ApiError {
        AdmissionRequest request = LeaseRequestParser.parse(ex.body(), ApiServer.MAX_WAIT);
        Decision.Final outcome = decided(ledger.request(request), request.maxWait(), ex);
        return answer(outcome);
    }

    /**
     * {@code POST /v1/leases?dryRun=true}: the decision the request would get now, changing nothing.
     * 200 {@code {"dryRun":true,"decision":"admit|preempt|wait|deny","service","bytes",
     * "preempted":[ids],"preemptedServices":[names],"awaiting":[ids],"position","deadline",
     * "reason","shortfallBytes","message"}} ({@code position} only for wait, {@code deadline} for
     * wait and preempt, {@code reason} for deny); 404 for an unknown service; 400 as for POST.
     */
    ApiExchange.Response dryRun(ApiExchange.Request ex) throws ApiError {
        AdmissionRequest request = LeaseRequestParser.parse(ex.body(), ApiServer.MAX_WAIT);
        Forecast f = join(ledger.dryRun(request));
        if (f.reason().isPresent() && f.reason().get() == Decision.Reason.UNKNOWN_SERVICE) {
            throw new ApiError(404, "unknown_service", f.sentence());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dryRun", true);
        m.put("decision", f.outcome().label());
        m.put("service", f.service());
        m.put("bytes", f.bytes());
        m.put("preempted", f.preempted().stream().map(l -> l.id().value()).toList());
        m.put("preemptedServices", f.preempted().stream().map(Lease::service).distinct().toList());
        m.put("awaiting", f.awaited().stream().map(l -> l.id().value()).toList());
        if (f.outcome() == Forecast.Outcome.WAIT) {
            m.put("position", f.position());
        }
        f.deadline().ifPresent(d -> m.put("deadline", d.toString()));
        f.reason().ifPresent(r -> m.put("reason", r.label()));
        m.put("shortfallBytes", f.shortfallBytes());
        m.put("message", f.sentence());
        return ApiExchange.Response.json(200, m);
    }

    /**
     * {@code PATCH /v1/leases/{id}}: 200 with the lease at its new size; a growth waits, preempts
     * or is refused (409) as an admission is; 404 for a lease not counted.
     */
    ApiExchange.Response resize(LeaseId id, ApiExchange.Request ex) throws ApiError {
        LeaseRequestParser.ResizeRequest r = LeaseRequestParser.parseResize(ex.body(), ApiServer.MAX_WAIT);
        Decision.Final outcome = decided(ledger.resize(id, r.bytes(), r.maxWait()), r.maxWait(), ex);
        if (outcome instanceof Decision.Denied no && no.reason() == Decision.Reason.LEASE_NOT_FOUND) {
            throw new ApiError(404, "no_such_lease", no.sentence());
        }
        if (outcome instanceof Decision.Denied no && no.reason() == Decision.Reason.LEASE_EVICTING) {
            throw new ApiError(409, "lease_evicting", no.sentence(), Map.of("reason", no.reason().label()));
        }
        if (outcome instanceof Decision.Denied) {
            return answer(outcome);
        }
        Lease lease = outcome instanceof Decision.Admitted a ? a.lease()
                : ((Decision.AdmittedAfterPreemption) outcome).lease();
        List<Lease> victims = outcome instanceof Decision.AdmittedAfterPreemption p ? p.victims() : List.of();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lease", LeaseJson.of(lease));
        m.put("preempted", victims.stream().map(v -> v.id().value()).toList());
        m.put("message", outcome.sentence());
        // No hand-back when the client has left: the lease was its before, at one size or the other.
        return ApiExchange.Response.json(200, m);
    }

    /** The final decision of {@code a}: at once, or after waiting while the client stays. */
    private Decision.Final decided(Admission a, Duration maxWait, ApiExchange.Request ex) throws ApiError {
        Decision first = join(a.firstDecision());
        Decision.Final outcome;
        if (first instanceof Decision.Final f) {
            outcome = f;
        } else {
            ledgerChanged.run();
            if (!waiting.tryAcquire()) {
                // Withdraw; but the grant may have come in the meantime: then it is answered, not lost.
                outcome = withdraw(a);
                if (!(outcome instanceof Decision.Admitted) && !(outcome instanceof Decision.AdmittedAfterPreemption)) {
                    ledgerChanged.run();
                    throw new ApiError(429, "too_many_waiting", ApiServer.MAX_WAITING
                            + " requests are already waiting; ask again later");
                }
            } else {
                try {
                    outcome = awaitOutcome(a, maxWait.plus(longestEviction).plus(ANSWER_SLACK), ex::clientGone);
                } finally {
                    waiting.release();
                }
            }
        }
        ledgerChanged.run();
        return outcome;
    }

    /**
     * Waits for the outcome, looking every {@value #CLIENT_CHECK_MS} ms whether the client left; a
     * client gone or the limit passed withdraws the request (whose outcome may still be a grant
     * that came first: the caller answers it, and a grant nobody receives is handed back).
     */
    private Decision.Final awaitOutcome(Admission a, Duration limit, BooleanSupplier clientGone) throws ApiError {
        long end = System.nanoTime() + limit.toNanos();
        CompletableFuture<Decision.Final> outcome = a.outcome();
        while (true) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return withdraw(a);
            }
            try {
                return outcome.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(CLIENT_CHECK_MS)),
                        TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (clientGone.getAsBoolean()) {
                    return withdraw(a);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return withdraw(a);
            } catch (ExecutionException e) {
                throw failed(e.getCause());
            }
        }
    }

    /** Cancels {@code a} and returns how it ended: cancelled, or decided before the cancel landed. */
    private static Decision.Final withdraw(Admission a) throws ApiError {
        a.cancel();
        return join(a.outcome());
    }

    private ApiExchange.Response answer(Decision.Final d) throws ApiError {
        if (d instanceof Decision.Admitted a) {
            return granted(a.lease(), List.of(), d.sentence());
        } else if (d instanceof Decision.AdmittedAfterPreemption a) {
            return granted(a.lease(), a.victims(), d.sentence());
        }
        Decision.Denied no = (Decision.Denied) d;
        switch (no.reason()) {
            case UNKNOWN_SERVICE -> throw new ApiError(404, "unknown_service", no.sentence());
            case SHUTDOWN -> throw new ApiError(503, "shutting_down", no.sentence());
            case JOURNAL_UNAVAILABLE -> throw new ApiError(503, "journal_unavailable", no.sentence());
            default -> {
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("reason", no.reason().label());
                extra.put("shortfallBytes", no.shortfallBytes());
                extra.put("inTheWay", no.inTheWay().stream().map(l -> l.id().value()).toList());
                throw new ApiError(409, "insufficient_vram", no.sentence(), extra);
            }
        }
    }

    /** 201 with the lease; should the client be gone before it is written, the lease goes back. */
    private ApiExchange.Response granted(Lease lease, List<Lease> victims, String sentence) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lease", LeaseJson.of(lease));
        m.put("preempted", victims.stream().map(v -> v.id().value()).toList());
        m.put("message", sentence);
        return ApiExchange.Response.json(201, m).onUndelivered(() -> handBack(lease));
    }

    private void handBack(Lease lease) {
        DaemonLog.info("lease " + lease.id() + " (" + lease.service() + ") was granted to a client that left before "
                + "the answer: released");
        ledger.release(lease.id()).whenComplete((released, failure) -> {
            if (failure != null) {
                DaemonLog.warn("releasing lease " + lease.id() + " of a client that left failed", failure);
            }
            ledgerChanged.run();
        });
    }

    private static <T> T join(CompletableFuture<T> f) throws ApiError {
        try {
            return f.get(ANSWER_SLACK.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "shutting_down", "the agent is shutting down");
        } catch (ExecutionException e) {
            throw failed(e.getCause());
        } catch (TimeoutException | CancellationException e) {
            throw new ApiError(503, "ledger_busy", "the ledger did not answer within " + ANSWER_SLACK.toSeconds() + " s");
        }
    }

    /**
     * A request the ledger could not complete: the journal could not store it (503, the agent
     * recovers by itself: ask again later), or something unexpected (500).
     */
    private static ApiError failed(Throwable cause) {
        if (cause instanceof JournalUnavailableException e) {
            return new ApiError(503, "journal_unavailable", e.getMessage() + "; ask again once the agent's disk"
                    + " can be written");
        }
        DaemonLog.warn("the ledger failed a request", cause);
        return new ApiError(500, "internal", "internal error; see the agent's log");
    }
}
