package org.gpuagent.nvml.sampler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;

/**
 * The calls that failed: those of the collect in progress, and totals per call and code since the
 * sampler started. A failure records a {@link CallError} and the collect goes on without that
 * field, except for a code that {@link NvmlReturn#requiresReinit() requires re-initialisation},
 * which ends the collect. Guarded by the sampler's collect lock; allocates only when a call fails.
 */
final class CallErrorLog {
    private final ArrayList<CallError> thisCollect = new ArrayList<>();
    private final Map<ErrorKey, long[]> counts = new HashMap<>();
    private List<CallErrorTotal> totals = List.of();

    /** Starts a collect: its list of failed calls is empty again; the totals go on. */
    void beginCollect() {
        thisCollect.clear();
    }

    /** Records the failure, then rethrows it when NVML must be re-initialised (the collect ends). */
    void recordOrRethrow(int deviceIndex, NvmlException e) {
        record(deviceIndex, e.call(), e.code(), e.getMessage());
        if (e.code().requiresReinit()) {
            throw e;
        }
    }

    /**
     * While a session opens: rethrows, unrecorded, a failure that requires re-initialisation (the
     * open fails as a whole and records it once), records any other.
     */
    void recordUnlessReinit(int deviceIndex, NvmlException e) {
        if (e.code().requiresReinit()) {
            throw e;
        }
        record(deviceIndex, e.call(), e.code(), e.getMessage());
    }

    /** A call that threw something other than {@link NvmlException}: a bug or a broken binding, counted as UNKNOWN. */
    void recordUnexpected(int deviceIndex, String call, Throwable t) {
        record(deviceIndex, call, NvmlReturn.UNKNOWN, String.valueOf(t));
    }

    void record(int deviceIndex, String call, NvmlReturn code, String message) {
        String c = call == null ? "unknown" : call;
        thisCollect.add(new CallError(deviceIndex, c, code, message == null ? "" : message));
        long[] count = counts.computeIfAbsent(new ErrorKey(c, code), k -> new long[1]);
        count[0]++;
        List<CallErrorTotal> list = new ArrayList<>(counts.size());
        for (Map.Entry<ErrorKey, long[]> en : counts.entrySet()) {
            list.add(new CallErrorTotal(en.getKey().call(), en.getKey().code(), en.getValue()[0]));
        }
        list.sort(Comparator.comparing(CallErrorTotal::call).thenComparing(CallErrorTotal::code));
        totals = List.copyOf(list);
    }

    /** The calls that failed in this collect; the same empty list when none did. */
    List<CallError> thisCollect() {
        return thisCollect.isEmpty() ? List.of() : List.copyOf(thisCollect);
    }

    /** Failures per call and code since the sampler started; the same object until the next failure. */
    List<CallErrorTotal> totals() {
        return totals;
    }

    private record ErrorKey(String call, NvmlReturn code) {
    }
}
