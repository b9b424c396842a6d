package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Chooses preemption victims, exactly as the architecture's scheduling policy says, working on a
 * copy (it changes nothing itself):
 * <ol>
 *   <li>If the request fits in what is free, nobody is preempted.</li>
 *   <li>Candidates are units of strictly lower priority whose service is preemptible (never
 *   {@code critical}, never equal priority). Remove them all: if the request still does not fit,
 *   preemption cannot help.</li>
 *   <li>Otherwise add candidates back, most important class first; within a class the
 *   <em>most recently used</em> first (so the least recently used is evicted first; a unit never
 *   {@linkplain Candidate#lastUsed() used} counts as least recent), and among equally recent ones
 *   the <em>oldest</em> first, so that the newest is evicted first ("newest-evicted-first"). A
 *   candidate is reprieved when the request still fits with it back; one that does not fit
 *   stays a victim and the walk goes on, so a later, smaller candidate can still be reprieved
 *   (as the Kubernetes scheduler's {@code SelectVictimsOnNode} does). The rest are the victims.</li>
 * </ol>
 * The tie-breaks, in order: priority class, then least recently used, then newest. The result is
 * deterministic: equal priority, equal last use and equal age keep the input order.
 *
 * <p>A unit is what one eviction frees: in the ledger, all counted leases of one service with one
 * holder, releasing max(leased, observed) bytes. Cost: O(n) plus sorting each class by age,
 * which is linear when units arrive in age order, as the ledger supplies them.
 */
public final class PreemptionPlanner {

    private PreemptionPlanner() {
    }

    /** Something that can be preempted as a whole. */
    public interface Candidate {
        PriorityClass priority();

        boolean preemptible();

        /** Bytes that come back when it is evicted. */
        long releasableBytes();

        /** Smaller is older (the ledger uses the unit's first lease id). */
        long age();

        /**
         * When it was last used (the ledger: the latest {@code touch} of its leases), or
         * {@link Instant#MIN} when never: then only age orders it. Used by the Ollama proxy so that
         * preempting Ollama unloads its least recently used model first.
         */
        default Instant lastUsed() {
            return Instant.MIN;
        }
    }

    public enum Outcome {
        /** The request fits without preemption. */
        FITS,
        /** The request fits once the victims are gone. */
        PREEMPT,
        /** Even with every candidate gone it would not fit. */
        CANNOT_HELP
    }

    /**
     * @param victims       to evict, in the order they were considered (most important first)
     * @param candidates    every unit the request was allowed to preempt
     * @param shortfallBytes for CANNOT_HELP, how much would still be missing with every
     *                       candidate gone; otherwise 0
     */
    public record Plan<T extends Candidate>(Outcome outcome, List<T> victims, List<T> candidates, long shortfallBytes) {
        public Plan {
            Objects.requireNonNull(outcome, "outcome");
            victims = List.copyOf(victims);
            candidates = List.copyOf(candidates);
        }

        public long victimBytes() {
            return victims.stream().mapToLong(Candidate::releasableBytes).sum();
        }
    }

    private static final Comparator<Candidate> OLDEST_FIRST = Comparator.comparingLong(Candidate::age);
    private static final int INDEX_BITS = 20;

    /**
     * Stable sort into reprieve order: by age alone when every unit was last used at the same time
     * (the usual case: none was ever touched), else see {@link #sortMostRecentlyUsedFirst}. Ages are packed with the input position into one long and sorted as
     * primitives (several times faster than a comparator sort of 1,000 objects); when the spread
     * of ages or the count does not fit the packing, a comparator sort (also stable) does it.
     */
    static <T extends Candidate> void sortReprieveOrder(List<T> units) {
        int n = units.size();
        if (n < 2) {
            return;
        }
        Instant[] used = new Instant[n];
        boolean allSameUse = true;
        for (int i = 0; i < n; i++) {
            used[i] = units.get(i).lastUsed();
            allSameUse &= used[i].equals(used[0]);
        }
        if (!allSameUse) {
            sortMostRecentlyUsedFirst(units, used);
            return;
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        boolean sorted = true;
        long previous = Long.MIN_VALUE;
        for (T u : units) {
            long a = u.age();
            min = Math.min(min, a);
            max = Math.max(max, a);
            sorted &= a >= previous;
            previous = a;
        }
        if (sorted) {
            return;
        }
        if (n >= (1 << INDEX_BITS) || max - min < 0 || max - min >= (1L << (63 - INDEX_BITS))) {
            units.sort(OLDEST_FIRST);
            return;
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = ((units.get(i).age() - min) << INDEX_BITS) | i;
        }
        java.util.Arrays.sort(keys);
        Object[] copy = units.toArray();
        for (int i = 0; i < n; i++) {
            @SuppressWarnings("unchecked")
            T u = (T) copy[(int) (keys[i] & ((1 << INDEX_BITS) - 1))];
            units.set(i, u);
        }
    }

    /**
     * Reprieve order when last-use times differ: most recently used first, then oldest first, then
     * input order (stable). The times are read once, before sorting.
     */
    private static <T extends Candidate> void sortMostRecentlyUsedFirst(List<T> units, Instant[] used) {
        int n = units.size();
        Integer[] order = new Integer[n];
        long[] age = new long[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            age[i] = units.get(i).age();
        }
        java.util.Arrays.sort(order, Comparator.<Integer, Instant>comparing(i -> used[i]).reversed()
                .thenComparingLong(i -> age[i]));
        Object[] copy = units.toArray();
        for (int i = 0; i < n; i++) {
            @SuppressWarnings("unchecked")
            T u = (T) copy[order[i]];
            units.set(i, u);
        }
    }

    /**
     * @param requester    the priority of the request
     * @param requestBytes x
     * @param freeBytes    what is free for this request now (may be negative when over-committed)
     * @param units        everything counted that could be evicted, any order
     */
    public static <T extends Candidate> Plan<T> plan(PriorityClass requester, long requestBytes, long freeBytes,
            List<T> units) {
        if (requestBytes <= freeBytes) {
            return new Plan<>(Outcome.FITS, List.of(), List.of(), 0);
        }
        PriorityClass[] classes = PriorityClass.values();
        @SuppressWarnings({"unchecked", "rawtypes"})
        List<T>[] byClass = new List[classes.length];
        List<T> candidates = new ArrayList<>();
        long freeWithoutCandidates = freeBytes;
        for (T unit : units) {
            if (requester.outranks(unit.priority()) && unit.preemptible()) {
                int c = unit.priority().ordinal();
                if (byClass[c] == null) {
                    byClass[c] = new ArrayList<>();
                }
                byClass[c].add(unit);
                candidates.add(unit);
                freeWithoutCandidates += unit.releasableBytes();
            }
        }
        if (freeWithoutCandidates < requestBytes) {
            return new Plan<>(Outcome.CANNOT_HELP, List.of(), candidates, requestBytes - freeWithoutCandidates);
        }
        List<T> victims = new ArrayList<>();
        long free = freeWithoutCandidates;
        for (List<T> cls : byClass) {
            if (cls == null) {
                continue;
            }
            sortReprieveOrder(cls);
            for (T unit : cls) {
                if (free - unit.releasableBytes() >= requestBytes) {
                    free -= unit.releasableBytes();
                } else {
                    victims.add(unit);
                }
            }
        }
        return new Plan<>(Outcome.PREEMPT, victims, candidates, 0);
    }
}
