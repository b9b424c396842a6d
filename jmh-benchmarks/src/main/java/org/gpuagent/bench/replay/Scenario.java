package org.gpuagent.bench.replay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.PriorityClass;

/**
 * One replayable day, as read from {@code bench/scenarios/*.yaml} by {@link ScenarioLoader}.
 * Maps keep the file's order, so everything derived from a scenario is printed in that order.
 */
record Scenario(String name, String file, long seed, GpuProfile card, VramTable table,
        Map<String, ServiceSpec> services, List<WorkloadSpec> workloads, List<Policy> policies,
        Optional<FitSpec> fit) {

    /**
     * A service as the agent would be configured for it.
     *
     * @param maxWait  how long each of its requests may wait in the queue
     * @param evictsIn how long its actuator takes, in the replay, to give memory back when preempted
     */
    record ServiceSpec(String name, PriorityClass priority, long requestBytes, boolean preemptible, Duration maxWait,
            Duration evictionDeadline, Duration evictsIn) {
    }

    /**
     * Instances of one table kind: {@code count} copies from {@code from} to {@code to} when
     * {@code every} is absent (always-on work), else one arrival per {@code every} slot from
     * {@code from} until {@code to}, each delayed by up to {@code jitter} (from the seed) and lasting
     * {@code lasts} plus up to {@code lastsJitter}.
     */
    record WorkloadSpec(String kind, int count, Duration from, Duration to, Optional<Duration> every,
            Duration jitter, Duration lasts, Duration lastsJitter) {
    }

    /**
     * One way to run the scheduler; absent fields keep the scenario's settings.
     *
     * @param perRequest true: one lease per workload instance (per transcode, per model load, per
     *                   job) of its table size; false: one lease per service of its request size,
     *                   taken when its first workload starts and released when its last ends, the
     *                   workloads using what they really use inside it
     */
    record Policy(String name, Optional<Headroom> headroom, boolean perRequest, Map<String, Long> requests,
            Map<String, PriorityClass> priorities) {
    }

    /** "How many concurrent streams of each kind fit beside the rest". */
    record FitSpec(List<String> streams, List<Background> beside) {
    }

    record Background(String name, List<String> kinds) {
    }

    ServiceSpec serviceOf(String kind) {
        return services.get(table.row(kind).service());
    }
}
