package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14's load test: the real daemon on the simulator (a child JVM) under 200 concurrent
 * clients that admit (some waiting, some hanging up at a random moment) and release (by id and by
 * holder), plus 20 scrapes of {@code /metrics} a second and 5 of {@code /v1/status}, for
 * {@code gpu-agent.load.seconds} (default 60). Every client connects per request, as the CLI and
 * the hooks do. While it runs, every status shows Σ leases within the budget; afterwards, once the
 * clients have released what they were given, no lease is left (none leaked), nothing waits, and
 * every scrape was answered. A client hangs up by closing its side, then reads whatever the agent
 * answered before it saw that: a grant delivered that way is the client's, one withheld must be
 * handed back by the agent. Prints throughput, p99 latencies and leaked leases, and writes them
 * to {@code target/load-test.txt}.
 */
class LoadTest {
    static final int CLIENTS = 200;
    static final int SCRAPES_PER_SECOND = 20;
    static final long MIB = TestConfigs.MIB;
    private static final String[] SERVICES = {"frigate", "jellyfin", "jellyfin", "immich", "immich", "ollama", "ollama"};
    private static final long[] SIZES = {32 * MIB, 64 * MIB, 128 * MIB};

    @TempDir
    Path dir;

    private final ConcurrentLinkedQueue<long[]> admitNanos = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<long[]> releaseNanos = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<long[]> scrapeNanos = new ConcurrentLinkedQueue<>();
    private final AtomicLong granted = new AtomicLong();
    private final AtomicLong denied = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong hungUp = new AtomicLong();
    private final AtomicLong grantedToHangUps = new AtomicLong();
    private final AtomicLong released = new AtomicLong();
    private final AtomicLong scrapeFailures = new AtomicLong();
    private final AtomicLong overBudget = new AtomicLong();
    private final List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Test
    void twoHundredClientsAndScrapesLeaveNoLease() throws Exception {
        Duration length = Duration.ofSeconds(Long.getLong("gpu-agent.load.seconds", 60));
        long seed = Long.getLong("gpu-agent.load.seed", new Random().nextLong());
        try (DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--config",
                TestConfigs.fast(dir).toString()))) {
            String token = d.token();
            long budget = ((Number) map(json(d.api("GET", "/v1/status", null).body()).get("budget"))
                    .get("budgetBytes")).longValue();
            long end = System.nanoTime() + length.toNanos();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int id = c;
                Thread t = new Thread(() -> client(d.apiPort, token, id, new Random(seed + id), start, end),
                        "load-" + c);
                t.setDaemon(true);
                clients.add(t);
                t.start();
            }
            ScheduledExecutorService scrapers = Executors.newScheduledThreadPool(4);
            scrapers.scheduleAtFixedRate(() -> scrape(d.metricsPort), 0, 1000 / SCRAPES_PER_SECOND,
                    TimeUnit.MILLISECONDS);
            scrapers.scheduleAtFixedRate(() -> checkBudget(d.apiPort, token, budget), 0, 200, TimeUnit.MILLISECONDS);
            long began = System.nanoTime();
            start.countDown();
            for (Thread t : clients) {
                t.join(length.toMillis() + 120_000);
            }
            double seconds = (System.nanoTime() - began) / 1e9;
            scrapers.shutdown();
            assertTrue(scrapers.awaitTermination(30, TimeUnit.SECONDS));

            assertEquals(List.of(), failures, "seed " + seed);
            Map<String, Object> status = json(d.api("GET", "/v1/status", null).body());
            List<?> leases = (List<?>) json(d.api("GET", "/v1/leases", null).body()).get("leases");
            long requests = admitNanos.size() + releaseNanos.size();
            String report = String.format(Locale.ROOT, "load: %.0f s, %d clients: %d admits (%d granted, %d denied, "
                    + "%d too many waiting; %d hung up, %d of those granted before the hang-up was seen), %d releases; "
                    + "%.0f API requests/s; p99 admit %.1f ms, p99 release %.1f ms; %d scrapes (%d failed), p99 "
                    + "scrape %.1f ms; Σ leases above the budget %d times; leaked leases %d (seed %d)",
                    seconds, CLIENTS, admitNanos.size(), granted.get(), denied.get(), busy.get(), hungUp.get(),
                    grantedToHangUps.get(), released.get(), requests / seconds, p99(admitNanos), p99(releaseNanos),
                    scrapeNanos.size(), scrapeFailures.get(), p99(scrapeNanos), overBudget.get(), leases.size(), seed);
            System.out.println(report);
            Files.writeString(Path.of("target", "load-test.txt"), report + "\n");

            assertEquals(List.of(), leases, "leaked leases; " + report);
            assertEquals(List.of(), status.get("queue"), report);
            assertEquals(0L, ((Number) map(status.get("budget")).get("leasedBytes")).longValue(), report);
            assertEquals(0, overBudget.get(), report);
            assertEquals(0, scrapeFailures.get(), report);
            assertTrue(granted.get() > 0 && denied.get() + busy.get() > 0 && hungUp.get() > 0
                    && released.get() > 0, "the load exercised grants, refusals, hang-ups and releases: " + report);
        }
    }

    /** One client: admits and releases until {@code end}, then releases what it holds. */
    private void client(int port, String token, int id, Random random, CountDownLatch start, long end) {
        String holder = "load:" + id;
        List<Long> held = new ArrayList<>();
        try {
            start.await();
            while (System.nanoTime() < end) {
                if (held.isEmpty() || held.size() < 2 && random.nextInt(10) < 3) {
                    long wait = random.nextBoolean() ? 0 : 1 + random.nextInt(400);
                    String body = "{\"service\":\"" + SERVICES[random.nextInt(SERVICES.length)] + "\",\"bytes\":"
                            + SIZES[random.nextInt(SIZES.length)] + ",\"holder\":\"" + holder + "\",\"waitMs\":"
                            + wait + "}";
                    boolean hangUp = random.nextInt(5) == 0;
                    long t0 = System.nanoTime();
                    Reply r = call(port, token, "POST", "/v1/leases", body, hangUp ? random.nextInt(200) : -1);
                    admitNanos.add(new long[] {System.nanoTime() - t0});
                    if (hangUp) {
                        hungUp.incrementAndGet();
                    }
                    if (r == null) {
                        continue;
                    }
                    switch (r.status) {
                        case 201 -> {
                            granted.incrementAndGet();
                            if (hangUp) {
                                grantedToHangUps.incrementAndGet();
                            }
                            held.add(((Number) map(json(r.body).get("lease")).get("id")).longValue());
                        }
                        case 409 -> denied.incrementAndGet();
                        case 429 -> busy.incrementAndGet();
                        default -> throw new AssertionError("admit answered " + r.status + ": " + r.body);
                    }
                } else if (random.nextInt(10) == 0) {
                    release(port, token, "/v1/leases?holder=" + holder.replace(":", "%3A"));
                    held.clear();
                } else {
                    long lease = held.remove(random.nextInt(held.size()));
                    release(port, token, "/v1/leases/" + lease);
                }
            }
            for (long lease : held) {
                release(port, token, "/v1/leases/" + lease);
            }
        } catch (Throwable e) {
            failures.add(new AssertionError("client " + id + ": " + e, e));
        }
    }

    private void release(int port, String token, String path) throws IOException {
        long t0 = System.nanoTime();
        Reply r = call(port, token, "DELETE", path, null, -1);
        releaseNanos.add(new long[] {System.nanoTime() - t0});
        if (r == null || r.status != 204) {
            throw new AssertionError("release answered " + (r == null ? "nothing" : r.status + ": " + r.body));
        }
        released.incrementAndGet();
    }

    private void scrape(int port) {
        long t0 = System.nanoTime();
        try {
            Reply r = call(port, null, "GET", "/metrics", null, -1);
            scrapeNanos.add(new long[] {System.nanoTime() - t0});
            if (r == null || r.status != 200 || !r.body.contains("nvgpu_vram_leased_bytes")) {
                scrapeFailures.incrementAndGet();
            }
        } catch (IOException | RuntimeException e) {
            scrapeFailures.incrementAndGet();
        }
    }

    private void checkBudget(int port, String token, long budget) {
        try {
            Reply r = call(port, token, "GET", "/v1/status", null, -1);
            if (r != null && r.status == 200) {
                long leased = ((Number) map(json(r.body).get("budget")).get("leasedBytes")).longValue();
                if (leased > budget) {
                    overBudget.incrementAndGet();
                }
            }
        } catch (IOException | RuntimeException e) {
            failures.add(e);
        }
    }

    private record Reply(int status, String body) {
    }

    /**
     * One request on its own connection. With {@code hangUpAfterMs} ≥ 0 the client closes its side
     * that long after sending and then reads whatever was answered (null if nothing).
     */
    private static Reply call(int port, String token, String method, String path, String body, int hangUpAfterMs)
            throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(120_000);
            byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                    + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n")
                    + "\r\n";
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            if (hangUpAfterMs >= 0) {
                try {
                    Thread.sleep(hangUpAfterMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                s.shutdownOutput();
            }
            byte[] all = readAll(s.getInputStream());
            if (all.length == 0) {
                return null;
            }
            String text = new String(all, StandardCharsets.UTF_8);
            int status = Integer.parseInt(text.substring(9, 12));
            int headEnd = text.indexOf("\r\n\r\n");
            return new Reply(status, headEnd < 0 ? "" : text.substring(headEnd + 4));
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        try {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // the agent closed without reading what we sent after its answer
        }
        return out.toByteArray();
    }

    private static double p99(ConcurrentLinkedQueue<long[]> samples) {
        long[] all = samples.stream().mapToLong(a -> a[0]).toArray();
        if (all.length == 0) {
            return 0;
        }
        Arrays.sort(all);
        return all[(int) Math.min(all.length - 1, Math.ceil(all.length * 0.99) - 1)] / 1e6;
    }

    private static Map<String, Object> json(String body) throws IOException {
        return JSON.std.mapFrom(body);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
