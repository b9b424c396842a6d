package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;

/** The publisher's promises: sequence order to listeners, STALE only for the collect the watchdog saw, nothing after close. */
class SnapshotPublisherTest {
    private final ManualTime time = new ManualTime();
    private final SnapshotPublisher publisher = new SnapshotPublisher(time);

    private GpuSnapshot ok() {
        return publisher.publishOk(time.instant(), 0, SessionInfo.NONE, List.of(), Faults.NONE);
    }

    @Test
    void aStaleIsNeverPublishedOverTheOkOfTheCollectTheWatchdogSaw() {
        publisher.collectStarted(0);
        SnapshotPublisher.InFlightCollect seen = publisher.unreportedCollect();
        assertNotNull(seen);
        GpuSnapshot good = ok(); // the collect returns between the watchdog's look and its publish
        publisher.collectStarted(0); // the next collect starts at the same tick
        assertNull(publisher.publishStale(seen.number(), "blocked"));
        assertSame(good, publisher.latest());
        GpuSnapshot stale = publisher.publishStale(publisher.unreportedCollect().number(), "blocked");
        assertEquals(GpuSnapshot.Status.STALE, stale.status());
        assertNull(publisher.unreportedCollect(), "reported once per collect");
        assertNull(publisher.publishStale(seen.number() + 1, "again"));
    }

    @Test
    void listenersHearEveryPublishInSequenceOrderAndTheLastGoodDataIsRepublishedWhenLost() {
        List<Long> heard = new ArrayList<>();
        publisher.addListener(s -> heard.add(s.sequence()));
        assertEquals(GpuSnapshot.Status.UNAVAILABLE,
                publisher.publishFailure("cannot open NVML", 0, SessionInfo.NONE, Faults.NONE).status());
        GpuSnapshot good = ok();
        time.advanceSeconds(1);
        GpuSnapshot lost = publisher.publishFailure("lost", 0, SessionInfo.NONE, Faults.NONE);
        assertEquals(GpuSnapshot.Status.LOST, lost.status());
        assertEquals(good.collectedAt(), lost.collectedAt());
        assertEquals(time.instant(), lost.publishedAt());
        assertEquals(List.of(1L, 2L, 3L), heard);
    }

    @Test
    void registeringAListenerNeverWaitsForAPublishInProgress() {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            AtomicBoolean registered = new AtomicBoolean();
            publisher.addListener(s -> {
                Future<?> elsewhere = other.submit(() -> publisher.addListener(x -> { }));
                try {
                    elsewhere.get(20, TimeUnit.SECONDS);
                    registered.set(true);
                } catch (Exception e) {
                    throw new AssertionError("another thread could not register during a publish", e);
                }
            });
            ok();
            assertTrue(registered.get());
            assertEquals(0, publisher.listenerFailures());
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void nothingIsPublishedAfterClose() {
        GpuSnapshot good = ok();
        publisher.collectStarted(0);
        publisher.close(1_000);
        assertSame(good, ok());
        assertSame(good, publisher.publishFailure("lost", 0, SessionInfo.NONE, Faults.NONE));
        assertNull(publisher.unreportedCollect());
        assertSame(good, publisher.latest());
    }
}
