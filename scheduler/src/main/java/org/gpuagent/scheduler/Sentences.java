package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * The sentences decisions, events and misfits carry, rendered from their fields: the ledger and
 * {@link Misfit} only pick which one. One place, so they read alike: sizes as {@link ByteSize}
 * formats them, times as local wall-clock time in the configured zone (with the date when it is
 * not today).
 */
final class Sentences {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final int LISTED = 3;

    private final ZoneId zone;

    Sentences(ZoneId zone) {
        this.zone = zone;
    }

    String time(Instant at, Instant now) {
        boolean sameDay = at.atZone(zone).toLocalDate().equals(now.atZone(zone).toLocalDate());
        return (sameDay ? TIME : DATE_TIME).format(at.atZone(zone));
    }

    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return oneDecimal(ms / 100) + " s";
        }
        long s = d.toSeconds();
        if (s < 3600) {
            return (s / 60) + " min " + (s % 60) + " s";
        }
        return (s / 3600) + " h " + (s % 3600 / 60) + " min";
    }

    static String size(long bytes) {
        return ByteSize.format(bytes);
    }

    /** "ollama lease 5 (2.5 GiB) and immich lease 3 (1 GiB)", at most three named. */
    static String leases(List<Lease> leases) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(leases.size(), LISTED);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append(i == leases.size() - 1 ? " and " : ", ");
            }
            b.append(leases.get(i).describe());
        }
        if (leases.size() > LISTED) {
            b.append(" and ").append(leases.size() - LISTED).append(" more");
        }
        return b.toString();
    }

    private static String needs(String service, long bytes, long free) {
        return service + " needs " + size(bytes) + ", " + size(Math.max(0, free)) + " is free";
    }

    private static String forHolder(Optional<String> holder) {
        return holder.map(h -> " for " + h).orElse("");
    }

    String admitted(Lease lease, Duration waited, long freeAfter, long budget) {
        return lease.service() + " admitted: lease " + lease.id() + ", " + size(lease.bytes()) + forHolder(lease.holder())
                + (waited.isZero() ? "" : ", after waiting " + duration(waited))
                + "; " + size(Math.max(0, freeAfter)) + " of the " + size(budget) + " budget is still free";
    }

    String admittedAfterPreemption(Lease lease, List<Lease> victims, Duration waited) {
        return lease.service() + " admitted after preempting " + leases(victims) + ": lease " + lease.id() + ", "
                + size(lease.bytes()) + forHolder(lease.holder()) + "; the memory came back after " + duration(waited);
    }

    /** "growing ollama lease 7 to 2 GiB: ", put before a growth's queue or denial sentence. */
    static String growing(String service, LeaseId id, long to) {
        return "growing " + service + " lease " + id + " to " + size(to) + ": ";
    }

    String resized(Lease before, Lease after, List<Lease> victims, Duration waited, long freeAfter, long budget) {
        return before.service() + " lease " + before.id() + forHolder(before.holder()) + " resized from "
                + size(before.bytes()) + " to " + size(after.bytes())
                + (victims.isEmpty() ? "" : " after preempting " + leases(victims))
                + (waited.isZero() ? "" : ", after waiting " + duration(waited))
                + "; " + size(Math.max(0, freeAfter)) + " of the " + size(budget) + " budget is still free";
    }

    static String noSuchLease(LeaseId id) {
        return "lease " + id + " is not counted (unknown or already released); nothing to resize";
    }

    static String leaseEvicting() {
        return "it is being evicted, so it may shrink but not grow";
    }

    /** A dry run's ADMIT. */
    static String wouldAdmit(String service, long bytes, long freeAfter, long budget) {
        return service + " would be admitted now: " + size(bytes) + "; " + size(Math.max(0, freeAfter)) + " of the "
                + size(budget) + " budget would still be free";
    }

    /** Refused because requests of equal or higher priority wait ahead, and it asked not to wait. */
    static String deniedBehind(String service, long bytes, int ahead) {
        return ahead(service, bytes, ahead) + "; not waiting";
    }

    /** Queued behind {@code ahead} requests, at position {@code ahead + 1}. */
    String queuedBehind(String service, long bytes, int ahead, Instant deadline, Instant now) {
        return ahead(service, bytes, ahead) + " (position " + (ahead + 1) + "); " + until(deadline, now);
    }

    /** Refused: it does not fit, preemption cannot help, and it asked not to wait. */
    static String deniedNoRoom(String service, long bytes, long free, PreemptionPlanner.Plan<?> plan,
            boolean lowerButNotPreemptible) {
        return needs(service, bytes, free) + "; " + noPreemption(plan, lowerButNotPreemptible) + "; not waiting";
    }

    /** Queued: it does not fit and preemption cannot help; it waits for memory to free. */
    String queuedNoRoom(String service, long bytes, long free, PreemptionPlanner.Plan<?> plan,
            boolean lowerButNotPreemptible, Instant deadline, Instant now) {
        return needs(service, bytes, free) + "; " + noPreemption(plan, lowerButNotPreemptible) + "; "
                + until(deadline, now);
    }

    /** Why preemption does not help, as a clause. */
    private static String noPreemption(PreemptionPlanner.Plan<?> plan, boolean lowerButNotPreemptible) {
        if (plan.candidates().isEmpty()) {
            return lowerButNotPreemptible
                    ? "only preemptible lower-priority leases may be preempted and there are none"
                    : "only lower-priority leases may be preempted and there are none";
        }
        long bytes = plan.candidates().stream().mapToLong(PreemptionPlanner.Candidate::releasableBytes).sum();
        return "preempting every lower-priority lease (" + size(bytes) + ") would still leave it "
                + size(plan.shortfallBytes()) + " short";
    }

    private static String ahead(String service, long bytes, int ahead) {
        return service + " needs " + size(bytes) + "; " + ahead + (ahead == 1 ? " request" : " requests")
                + " of equal or higher priority " + (ahead == 1 ? "is" : "are") + " waiting ahead of it";
    }

    private String until(Instant deadline, Instant now) {
        return "waiting until " + time(deadline, now);
    }

    String preempting(String service, long bytes, long free, List<Lease> victims, Instant deadline, Instant now) {
        return needs(service, bytes, free) + "; preempting " + leases(victims) + "; waiting until "
                + time(deadline, now) + " for the memory to come back";
    }

    String comingBack(String service, long bytes, long free, List<Lease> awaited, Instant deadline, Instant now) {
        return needs(service, bytes, free) + "; evicted " + leases(awaited) + " are giving memory back; waiting until "
                + time(deadline, now);
    }

    String deadlinePassed(String service, long bytes, long free, Duration waited, Instant now) {
        return needs(service, bytes, free) + "; gave up at " + time(now, now) + " after waiting " + duration(waited);
    }

    String evictionTooSlow(String service, long bytes, long free, List<Lease> victims, Instant now) {
        return needs(service, bytes, free) + "; preempted " + leases(victims) + " did not give the memory back by "
                + time(now, now);
    }

    /** "3.8 GiB (4 GiB device minus 204.8 MiB headroom)". */
    static String budget(Budget b) {
        return size(b.bytes()) + " (" + size(b.deviceTotalBytes()) + " device minus " + size(b.headroomBytes())
                + " headroom)";
    }

    static String exceedsBudget(String service, long bytes, Budget budget) {
        return service + " asks for " + size(bytes) + " but the whole budget is " + budget(budget) + "; it can never fit";
    }

    static String noBudget(long headroomBytes, long deviceTotalBytes) {
        return "headroom " + size(headroomBytes) + " leaves no budget on a " + size(deviceTotalBytes) + " device";
    }

    static String requestExceedsBudget(long bytes, Budget budget) {
        return size(bytes) + " alone exceeds the budget of " + budget(budget) + ": it could never be admitted";
    }

    static String criticalExceedBudget(long bytes, Budget budget) {
        return "critical services together request " + size(bytes) + ", more than the budget of " + budget(budget)
                + "; critical leases are never preempted, so they cannot all run";
    }

    static String unknownService(String service, List<String> known) {
        return "unknown service '" + service + "' (configured: " + String.join(", ", known) + ")";
    }

    static String cancelled(String service, long bytes, Duration waited) {
        return service + "'s request for " + size(bytes) + " was cancelled after waiting " + duration(waited);
    }

    static String withdrawn(String service, long bytes, String holder, Duration waited) {
        return service + "'s request for " + size(bytes) + " was withdrawn after waiting " + duration(waited)
                + ": its holder " + holder + " released everything";
    }

    static String shutdown(String service, long bytes) {
        return service + "'s request for " + size(bytes) + " was refused: the ledger is shutting down";
    }

    String preempted(Lease victim, String forService, long requestId, Instant deadline, Instant now) {
        return "preempting " + victim.describe() + " for " + forService + " (request " + requestId
                + "); its memory is expected back by " + time(deadline, now);
    }

    static String evicted(Lease lease) {
        return lease.describe() + " gave its memory back and is released";
    }

    static String released(Lease lease) {
        return lease.describe() + forHolder(lease.holder()) + " released";
    }

    String reclaimed(Lease lease, Instant goneSince, Instant now) {
        String who = lease.holder().map(h -> "its holder " + h).orElse("its processes " + lease.pids());
        return lease.describe() + " reclaimed: " + who + " has been gone since " + time(goneSince, now);
    }

    static String journalUnavailable(String service, long bytes, String problem) {
        return service + "'s request for " + size(bytes) + " was refused: the ledger journal cannot be written ("
                + problem + "), so nothing is admitted until it can";
    }

    static String rolledBack(Lease lease, Exception cause) {
        return lease.describe() + " rolled back: the journal could not store it (" + cause.getMessage() + ")";
    }

    static String overUse(String service, Optional<String> holder, long leased, long observed, long tolerance) {
        return service + holder.map(h -> " (" + h + ")").orElse("") + " uses " + size(observed) + " but leased "
                + size(leased) + ", more than its " + size(tolerance) + " tolerance";
    }

    static String unattributed(long bytes) {
        return size(bytes) + " of GPU memory is used by processes that no service accounts for";
    }

    /** {@code tenths} as a number with one decimal, a trailing ".0" dropped. */
    private static String oneDecimal(long tenths) {
        return tenths % 10 == 0 ? Long.toString(tenths / 10) : (tenths / 10) + "." + (tenths % 10);
    }
}
