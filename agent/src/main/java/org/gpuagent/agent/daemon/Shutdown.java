package org.gpuagent.agent.daemon;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * What the daemon stops, in an order that loses nothing, whatever order it was started in: each
 * part is registered under its {@link Stage} as it opens; {@link #run()} stops the stages in the
 * order declared here (within a stage, the last registered first). A part that fails to stop is
 * logged and the rest still stop. Registering after a run, or running twice, does nothing more.
 */
final class Shutdown {
    enum Stage {
        /** New API requests are refused with 503 from here on; those being answered go on. */
        REFUSE_REQUESTS,
        /** The ledger: waiting requests refused, the journal synced and closed. */
        LEDGER,
        /** The API stops listening; requests being answered get a short grace. */
        API,
        /** No more samples. */
        SAMPLING,
        /** /metrics and /healthz stop answering, last: a scrape sees the agent until it is gone. */
        METRICS,
        /** Timers and actuators: nothing is left to schedule or evict. */
        WORKERS,
        /** The events' reporting thread writes what it holds (log lines, notifications), briefly. */
        REPORTING
    }

    /** One part to stop; its name is what a failure to stop it is logged under. */
    record Step(String name, AutoCloseable stop) {
    }

    private final Map<Stage, List<Step>> stages = new EnumMap<>(Stage.class);
    private boolean ran;

    synchronized void add(Stage stage, String name, AutoCloseable stop) {
        if (!ran) {
            stages.computeIfAbsent(stage, s -> new ArrayList<>()).add(new Step(name, stop));
        }
    }

    /** Stops every part registered, stage by stage. */
    void run() {
        List<Step> order = new ArrayList<>();
        synchronized (this) {
            if (ran) {
                return;
            }
            ran = true;
            for (Stage s : Stage.values()) {
                List<Step> steps = stages.getOrDefault(s, List.of());
                for (int i = steps.size() - 1; i >= 0; i--) {
                    order.add(steps.get(i));
                }
            }
        }
        for (Step step : order) {
            try {
                step.stop().close();
            } catch (Exception e) {
                DaemonLog.warn("while stopping: " + step.name(), e);
            }
        }
    }
}
