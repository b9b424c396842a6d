package org.gpuagent.nvml.sampler;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * How the sampler's threads wait between rounds. {@link #SYSTEM} sleeps in real time; a test
 * injects one that waits on its manual clock, so that the threads run in virtual time too.
 * The sampler's close interrupts its threads: a sleep must end by throwing
 * {@link InterruptedException} when interrupted.
 */
@FunctionalInterface
public interface Sleeper {
    /** Real time. */
    Sleeper SYSTEM = TimeUnit.NANOSECONDS::sleep;

    /** Waits about {@code nanos} (positive) on this sleeper's clock. */
    void sleep(long nanos) throws InterruptedException;

    /**
     * Sleeps unless already {@code stopped}; an interrupt ends the sleep early. The sampler's own
     * threads are interrupted only by close, which sets {@code stopped} first, so the interrupt
     * has done its job once the sleep ends and is not kept.
     */
    static void sleepUnlessStopped(Sleeper sleeper, long nanos, BooleanSupplier stopped) {
        if (nanos <= 0 || stopped.getAsBoolean()) {
            return;
        }
        try {
            sleeper.sleep(nanos);
        } catch (InterruptedException e) {
            // close() set stopped before interrupting: the caller's loop ends.
        }
    }
}
