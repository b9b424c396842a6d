package org.gpuagent.nvml.sim;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;

/**
 * A call made to hang inside the simulated driver, as a wedged GPU or a driver stuck in a kernel
 * lock does: every thread that makes the call waits until the test calls {@link #release()}.
 * From {@link SimulatedGpuHost#blockCall(String)}.
 */
public final class BlockedCall {
    private final SimulatedGpuHost host;
    private final SimCall call;
    private final CountDownLatch firstEntered = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger waiting = new AtomicInteger();

    BlockedCall(SimulatedGpuHost host, SimCall call) {
        this.host = host;
        this.call = call;
    }

    /** The C name of the blocked call. */
    public String call() {
        return call.cName();
    }

    /** Waits until some thread is stuck in the call; false if none arrived within {@code timeout}. */
    public boolean awaitBlocked(Duration timeout) throws InterruptedException {
        return firstEntered.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Threads waiting in the call now. */
    public int waitingThreads() {
        return waiting.get();
    }

    /** Lets every waiting thread go on and stops blocking later calls; idempotent. */
    public void release() {
        host.removeBlock(this);
        released.countDown();
    }

    public boolean isReleased() {
        return released.getCount() == 0;
    }

    SimCall simCall() {
        return call;
    }

    /** Blocks the calling thread until {@link #release()}; an interrupt ends the call with an error. */
    void hold() {
        waiting.incrementAndGet();
        firstEntered.countDown();
        try {
            released.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NvmlException(call.cName(), NvmlReturn.UNKNOWN, "interrupted while blocked in the simulated driver");
        } finally {
            waiting.decrementAndGet();
        }
    }
}
