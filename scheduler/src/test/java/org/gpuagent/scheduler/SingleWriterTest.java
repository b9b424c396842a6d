package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.gpuagent.scheduler.journal.LogCapture;
import org.junit.jupiter.api.Test;

/** The ledger's writer: order, batches, the hand-over to the overflow executor, failures. */
class SingleWriterTest {
    private final List<String> log = new ArrayList<>();
    private final List<Runnable> handedOver = new ArrayList<>();
    private final Executor overflow = handedOver::add;

    private SingleWriter writer(int batchLimit) {
        return new SingleWriter(overflow, batchLimit, () -> {
            log.add("batch");
            return () -> log.add("released");
        });
    }

    /** Submits {@code n} commands from inside a command, so that they queue behind the running one. */
    private static void queue(SingleWriter w, List<String> log, int n) {
        w.submit(() -> {
            log.add("first");
            for (int i = 1; i <= n; i++) {
                int k = i;
                w.submit(() -> log.add("c" + k));
            }
        });
    }

    @Test
    void commandsRunInOrderOnTheSubmittingThreadThenTheBatchIsPublished() {
        SingleWriter w = writer(10);
        assertFalse(w.onWriter());
        List<Boolean> onWriter = new ArrayList<>();
        w.submit(() -> onWriter.add(w.onWriter()));
        queue(w, log, 2);
        assertEquals(List.of(true), onWriter);
        assertFalse(w.onWriter(), "released after the batch");
        assertEquals(List.of("batch", "released", "first", "c1", "c2", "batch", "released"), log);
        assertTrue(handedOver.isEmpty());
    }

    @Test
    void afterBatchLimitCommandsTheRestIsHandedToTheOverflowExecutor() {
        SingleWriter w = writer(2);
        queue(w, log, 3);
        assertEquals(List.of("first", "c1", "batch", "released"), log);
        assertEquals(1, handedOver.size(), "the caller is not kept busy with the others' work");
        handedOver.remove(0).run();
        assertEquals(List.of("first", "c1", "batch", "released", "c2", "c3", "batch", "released"), log);
        assertEquals(List.of(), handedOver, "exactly at the limit with nothing left: no hand-over");
    }

    @Test
    void whenTheOverflowExecutorRefusesTheCallerKeepsDraining() {
        SingleWriter w = new SingleWriter(r -> {
            throw new RejectedExecutionException("shut down");
        }, 2, () -> null);
        queue(w, log, 4);
        assertEquals(List.of("first", "c1", "c2", "c3", "c4"), log);
    }

    @Test
    void aFailingCommandIsLoggedAndTheWriterCarriesOn() {
        SingleWriter w = writer(10);
        try (LogCapture captured = new LogCapture(SingleWriter.class)) {
            w.submit(() -> {
                throw new IllegalStateException("a bug");
            });
            w.submit(() -> {
                throw new AssertionError("a broken assertion");
            });
            w.submit(() -> log.add("next"));
            assertEquals(List.of("SEVERE a ledger command failed; the ledger carries on",
                    "SEVERE a ledger command failed; the ledger carries on"), captured.lines());
        }
        assertEquals(List.of("batch", "released", "batch", "released", "next", "batch", "released"), log);
        assertThrows(StackOverflowError.class, () -> w.submit(() -> {
            throw new StackOverflowError();
        }), "a VirtualMachineError is not swallowed");
        w.submit(() -> log.add("after"));
        assertEquals("after", log.get(log.size() - 3), "and the writer is released all the same");
    }

    @Test
    void anErrorWhilePublishingPropagatesAndStillReleasesTheWriter() {
        boolean[] fail = {true};
        SingleWriter w = new SingleWriter(overflow, 10, () -> {
            if (fail[0]) {
                fail[0] = false;
                throw new AssertionError("publish");
            }
            return null;
        });
        assertThrows(AssertionError.class, () -> w.submit(() -> log.add("one")));
        assertFalse(w.onWriter());
        w.submit(() -> log.add("two"));
        assertEquals(List.of("one", "two"), log);
    }

    @Test
    void aFailingPublicationOrCompletionIsLoggedAndTheWriterIsReleased() {
        List<String> runs = new ArrayList<>();
        int[] batches = {0};
        SingleWriter w = new SingleWriter(overflow, 10, () -> {
            if (batches[0]++ == 0) {
                runs.add("publish failed");
                throw new IllegalStateException("publish");
            }
            return () -> {
                runs.add("completion failed");
                throw new IllegalStateException("complete");
            };
        });
        try (LogCapture captured = new LogCapture(SingleWriter.class)) {
            w.submit(() -> runs.add("one"));
            w.submit(() -> runs.add("two"));
            assertEquals(List.of("SEVERE publishing the ledger failed", "SEVERE completing requests failed"),
                    captured.lines());
        }
        assertEquals(List.of("one", "publish failed", "two", "completion failed"), runs);
        assertFalse(w.onWriter());
    }
}
