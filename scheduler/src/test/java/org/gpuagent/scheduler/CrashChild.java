package org.gpuagent.scheduler;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * The child JVM of {@link CrashRecoveryTest}: admits under load into a durable ledger and prints
 * "A id bytes" for every acknowledged lease, "r id" before asking to release one and "R id" once
 * the release is acknowledged, until it is killed. While the journal cannot be written (a full
 * disk) it prints "D" for a request refused as such, "X id" for an admission rolled back because
 * its lease could not be stored, and "E id" for a release that was not acknowledged. Arguments:
 * state directory, requester threads, seed.
 */
public final class CrashChild {
    private static final Pattern ROLLED_BACK = Pattern.compile("could not store lease (\\d+)");

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        ManualTime time = new ManualTime(Homelab.START);
        SchedulerConfig config = new SchedulerConfig(1L << 40, Headroom.fixed(0), Homelab.SERVICES);
        FileJournal journal = FileJournal.open(dir, time);
        AtomicLong healthChanges = new AtomicLong();
        journal.onHealthChange(() -> {
            synchronized (healthChanges) {
                healthChanges.incrementAndGet();
                healthChanges.notifyAll();
            }
        });
        AdmissionController controller = AdmissionController.builder(config, time, time).journal(journal).build();
        out.println("READY " + controller.view().leases().size());
        out.flush();
        List<String> services = List.of("frigate", "jellyfin", "immich", "ollama");
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread worker = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(seed * 31 + thread);
                for (int i = 0; ; i++) {
                    long changesSeen = healthChanges.get();
                    AdmissionRequest r = AdmissionRequest.of(services.get(random.nextInt(services.size())))
                            .withBytes(random.nextLong(1, 64) * Homelab.MIB)
                            .withHolder("crash-" + seed + "-" + thread + "-" + i);
                    Decision.Final d;
                    try {
                        d = controller.request(r).outcome().join();
                    } catch (CompletionException e) {
                        Matcher m = ROLLED_BACK.matcher(String.valueOf(e.getCause().getMessage()));
                        if (!(e.getCause() instanceof JournalUnavailableException) || !m.find()) {
                            throw e;
                        }
                        print(out, "X " + m.group(1));
                        continue;
                    }
                    if (d instanceof Decision.Denied no && no.reason() == Decision.Reason.JOURNAL_UNAVAILABLE) {
                        print(out, "D");
                        awaitChange(healthChanges, changesSeen);
                        continue;
                    }
                    if (!(d instanceof Decision.Admitted a)) {
                        throw new IllegalStateException("unexpected " + d);
                    }
                    print(out, "A " + a.lease().id() + " " + a.lease().bytes());
                    if (random.nextInt(4) == 0) {
                        print(out, "r " + a.lease().id());
                        try {
                            if (controller.release(a.lease().id()).join()) {
                                print(out, "R " + a.lease().id());
                            }
                        } catch (CompletionException e) {
                            if (!(e.getCause() instanceof JournalUnavailableException)) {
                                throw e;
                            }
                            print(out, "E " + a.lease().id());
                        }
                    }
                }
            }, "requester-" + t);
            worker.start();
        }
        Thread.currentThread().join();
    }

    /**
     * Refused at once while the disk is full: asks again when the journal's health changes (each
     * failed retry, and the one that succeeds) instead of spinning.
     */
    private static void awaitChange(AtomicLong healthChanges, long seen) {
        synchronized (healthChanges) {
            while (healthChanges.get() == seen) {
                try {
                    healthChanges.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void print(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
