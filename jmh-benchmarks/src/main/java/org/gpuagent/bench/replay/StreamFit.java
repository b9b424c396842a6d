package org.gpuagent.bench.replay;

import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.gpuagent.bench.replay.Scenario.Background;
import org.gpuagent.bench.replay.Scenario.Policy;
import org.gpuagent.scheduler.Admission;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Evictor;

/**
 * "How many concurrent streams of each kind fit beside the rest": for each background (what else
 * holds the card) the real controller admits the background's workloads, then one more stream of
 * the kind at a time (each asking for its table size, deciding at once) until one is refused.
 * Preemptible background work is evicted as the scheduler decides (victims give their memory back
 * at once here), so a cell reads "streams admitted without evicting anyone" and, when more fit
 * after evicting, "(n after evicting)".
 */
final class StreamFit {
    /** More than a 4 GiB card holds of anything; keeps a huge card from looping long. */
    static final int LIMIT = 32;

    /** One cell: streams admitted before the first preemption, in all, and what the background lost. */
    record Cell(int withoutEviction, int inAll, int backgroundDenied) {
    }

    record Row(String stream, List<Cell> cells) {
    }

    private StreamFit() {
    }

    static List<Row> table(Scenario scenario, Policy policy) {
        Scenario.FitSpec fit = scenario.fit().orElseThrow();
        List<Row> rows = new ArrayList<>();
        for (String stream : fit.streams()) {
            List<Cell> cells = new ArrayList<>();
            for (Background b : fit.beside()) {
                cells.add(cell(scenario, policy, b, stream));
            }
            rows.add(new Row(stream, List.copyOf(cells)));
        }
        return rows;
    }

    private static Cell cell(Scenario scenario, Policy policy, Background background, String stream) {
        VirtualTime time = new VirtualTime(CardReplay.DAY_START);
        AdmissionController[] holder = new AdmissionController[1];
        Evictor evictor = order -> {
            time.after(Duration.ZERO, () -> holder[0].release(order.victim().id()));
            return CompletableFuture.completedFuture(null);
        };
        AdmissionController c = AdmissionController.builder(CardReplay.config(scenario, policy), time, time)
                .zone(ZoneOffset.UTC).overflowExecutor(Runnable::run, Integer.MAX_VALUE).evictor(evictor).build();
        holder[0] = c;
        int backgroundDenied = 0;
        int seq = 0;
        for (String kind : background.kinds()) {
            if (!decide(c, time, scenario, kind, ++seq).admitted()) {
                backgroundDenied++;
            }
        }
        int before = -1;
        int admitted = 0;
        while (admitted < LIMIT) {
            Decision.Final d = decide(c, time, scenario, stream, ++seq);
            if (!d.admitted()) {
                break;
            }
            if (d instanceof Decision.AdmittedAfterPreemption && before < 0) {
                before = admitted;
            }
            admitted++;
        }
        return new Cell(before < 0 ? admitted : before, admitted, backgroundDenied);
    }

    private static Decision.Final decide(AdmissionController c, VirtualTime time, Scenario scenario, String kind,
            int seq) {
        VramTable.Row row = scenario.table().row(kind);
        Admission a = c.request(AdmissionRequest.of(row.service()).withBytes(row.bytes()).withHolder(kind + "#" + seq));
        // A request that preempts waits for its victims, at most the longest eviction deadline.
        time.runUntil(time.instant().plus(Duration.ofHours(1)));
        return a.outcome().join();
    }
}
