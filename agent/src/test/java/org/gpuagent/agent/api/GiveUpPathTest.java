package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.gpuagent.scheduler.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: "when tryAcquire fails the API answers 429 and cancels the admission, but a lease
 * granted in that window is never reported; 100 clients with short waits left 23 leases held
 * forever". A request abandoned by its client or by its own limit leaves no lease or hands it back.
 */
class GiveUpPathTest {
    @TempDir
    Path dir;
    ApiRig rig;

    @AfterEach
    void close() throws IOException {
        if (rig != null) {
            rig.close();
        }
    }

    /**
     * The window made certain: the waiting-permit check itself frees the memory and lets the
     * queued request be granted before it says "no permit". The grant must be answered (201 with
     * that lease), not cancelled into a 429 with the lease left behind.
     */
    @Test
    void aGrantThatComesBeforeTheWaitingLimitIsAnsweredNotLost() throws Exception {
        long[] blocker = new long[1];
        Semaphore grantsInTheWindow = new Semaphore(0) {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean tryAcquire() {
                rig.release(blocker[0]);
                await(() -> rig.ledger.view().queue().isEmpty() && rig.leaseCount() == 1, "the queued request granted");
                return false;
            }
        };
        rig = new ApiRig(dir, HttpListener.Limits.DEFAULT, grantsInTheWindow);
        blocker[0] = rig.call("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":\"4GiB\"}").leaseId();

        ApiRig.Reply r = rig.call("POST", "/v1/leases", "{\"service\":\"jellyfin\",\"waitMs\":60000}");

        assertEquals(201, r.status(), r.body());
        assertEquals(List.of(r.leaseId()), heldIds());
    }

    /** The same check with no grant in the window: 429, and nothing is left queued or held. */
    @Test
    void withNoGrantTheWaitingLimitIs429AndLeavesNothing() throws Exception {
        rig = new ApiRig(dir, HttpListener.Limits.DEFAULT, new Semaphore(0));
        long blocker = rig.call("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":\"4GiB\"}").leaseId();
        ApiRig.Reply r = rig.call("POST", "/v1/leases", "{\"service\":\"jellyfin\",\"waitMs\":60000}");
        assertEquals(429, r.status(), r.body());
        assertEquals("too_many_waiting", r.json().get("error"));
        assertTrue(rig.ledger.view().queue().isEmpty());
        assertEquals(List.of(blocker), heldIds());
    }

    /** A client that hangs up while queued withdraws its request: freed memory goes to no one. */
    @Test
    void aClientThatLeavesWhileQueuedLeavesNoLease() throws Exception {
        rig = ApiRig.start(dir);
        long blocker = rig.call("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":\"4GiB\"}").leaseId();
        try (Socket s = new Socket("127.0.0.1", rig.port())) {
            s.getOutputStream().write(rig.request("POST", "/v1/leases", "{\"service\":\"jellyfin\",\"waitMs\":600000}")
                    .getBytes(StandardCharsets.UTF_8));
            await(() -> rig.ledger.view().queue().size() == 1, "the request queued");
        }
        await(() -> rig.ledger.view().queue().isEmpty(), "the request withdrawn when its client left");
        rig.release(blocker);
        assertEquals(List.of(), heldIds());
    }

    /**
     * Hang-ups racing grants, twenty times at shifting offsets: whether the withdrawal or the grant
     * lands first, no lease is left to a client that is gone, unless the answer reached it first.
     */
    @Test
    void hangUpsRacingGrantsLeaveNoLease() throws Exception {
        rig = ApiRig.start(dir);
        for (int i = 0; i < 20; i++) {
            long blocker = rig.call("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":\"4GiB\"}").leaseId();
            Set<Long> delivered = new ConcurrentSkipListSet<>();
            int offset = i;
            CountDownLatch queued = new CountDownLatch(1);
            Thread releaser = new Thread(() -> {
                try {
                    queued.await();
                } catch (InterruptedException e) {
                    return;
                }
                spin(offset * 50_000L);
                rig.release(blocker);
            });
            releaser.start();
            hangUp("{\"service\":\"jellyfin\",\"waitMs\":600000}", 0, delivered, () -> {
                await(() -> rig.ledger.view().queue().size() == 1, "the request queued");
                queued.countDown();
                spin((20 - offset) * 50_000L);
            });
            releaser.join();
            await(() -> rig.ledger.view().queue().isEmpty() && new TreeSet<>(heldIds()).equals(delivered),
                    "only a delivered lease " + delivered + " held after round " + i + ", not " + heldIds());
            delivered.forEach(rig::release);
        }
    }

    /**
     * Seeded clients against three waiting permits: short waits, hang-ups at random moments and
     * releases, all racing. Afterwards the ledger holds exactly the leases answered 201 and not
     * released: none leaked, none claimed that is not held.
     */
    @Test
    void manyClientsWithShortWaitsHangUpsAndReleasesLeakNothing() throws Exception {
        long seed = new Random().nextLong();
        rig = new ApiRig(dir, HttpListener.Limits.DEFAULT, new Semaphore(3));
        Set<Long> kept = new ConcurrentSkipListSet<>();
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger hungUp = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        String[] services = {"frigate", "jellyfin", "ollama"};
        String[] sizes = {"512MiB", "1GiB", "1536MiB", "2560MiB"};
        for (int c = 0; c < 24; c++) {
            Random random = new Random(seed + c);
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int k = 0; k < 15; k++) {
                        String body = "{\"service\":\"" + services[random.nextInt(3)] + "\",\"bytes\":\""
                                + sizes[random.nextInt(4)] + "\",\"waitMs\":" + random.nextInt(150) + "}";
                        if (random.nextInt(3) == 0) {
                            hangUp(body, random.nextInt(120), kept);
                            hungUp.incrementAndGet();
                            continue;
                        }
                        ApiRig.Reply r = rig.call("POST", "/v1/leases", body);
                        assertTrue(r.status() == 201 || r.status() == 409 || r.status() == 429, r.toString());
                        answered.incrementAndGet();
                        if (r.status() == 201) {
                            long id = r.leaseId();
                            if (random.nextBoolean()) {
                                kept.add(id);
                            } else {
                                Thread.sleep(random.nextInt(50));
                                assertEquals(204, rig.call("DELETE", "/v1/leases/" + id, null).status());
                            }
                        }
                        if (random.nextInt(4) == 0 && !kept.isEmpty()) {
                            Long any = kept.iterator().next();
                            if (kept.remove(any)) {
                                assertEquals(204, rig.call("DELETE", "/v1/leases/" + any, null).status());
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "client-" + c);
            clients.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : clients) {
            t.join(120_000);
        }
        assertEquals(List.of(), failures, "seed " + seed);
        await(() -> rig.ledger.view().queue().isEmpty() && new TreeSet<>(heldIds()).equals(new TreeSet<>(kept)),
                "the ledger holding exactly the kept leases " + kept + ", not " + heldIds() + " (seed " + seed + ")");
        assertTrue(answered.get() > 0 && hungUp.get() > 0, "seed " + seed);
    }

    /**
     * Sends {@code body}, hangs up after {@code afterMs} (a half-close: the server sees the end of
     * the stream as a hang-up) and reads whatever was answered before: an answer written before the
     * hang-up was seen is delivered, and its lease is the client's ({@code kept}); any other grant
     * must be handed back by the server.
     */
    private void hangUp(String body, int afterMs, Set<Long> kept) throws IOException, InterruptedException {
        hangUp(body, afterMs, kept, () -> { });
    }

    private void hangUp(String body, int afterMs, Set<Long> kept, Runnable beforeHangingUp)
            throws IOException, InterruptedException {
        try (Socket s = new Socket("127.0.0.1", rig.port())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(rig.request("POST", "/v1/leases", body).getBytes(StandardCharsets.UTF_8));
            Thread.sleep(afterMs);
            beforeHangingUp.run();
            s.shutdownOutput();
            ApiRig.Reply r;
            try {
                r = ApiRig.Reply.read(s.getInputStream());
            } catch (IOException noReply) {
                return;
            }
            if (r.status() == 201) {
                kept.add(r.leaseId());
            }
        }
    }

    private List<Long> heldIds() {
        return rig.ledger.view().leases().stream().map(Lease::id).map(id -> id.value()).toList();
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never saw " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
