package org.gpuagent.bench.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import org.gpuagent.bench.replay.ReplayOutcome.Mark;
import org.gpuagent.bench.replay.ReplayOutcome.MarkKind;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.Test;

class ReplayTallyTest {
    private static final long GIB = 1L << 30;

    private final VirtualTime time = new VirtualTime(CardReplay.DAY_START);
    private final AdmissionController ledger = AdmissionController.builder(new SchedulerConfig(4 * GIB,
            Headroom.fixed(0), List.of(Service.of("frigate", PriorityClass.CRITICAL, GIB, false),
                    Service.of("ollama", PriorityClass.OPPORTUNISTIC, 2 * GIB, true))), time, time)
            .zone(ZoneOffset.UTC).overflowExecutor(Runnable::run, Integer.MAX_VALUE).build();
    private final ReplayTally tally = new ReplayTally(List.of("frigate", "ollama"));

    private LeaseId admit(String service) {
        return ((Decision.Admitted) ledger.request(AdmissionRequest.of(service)).outcome().join()).lease().id();
    }

    @Test
    void theTimelineKeepsOnePointPerChangeAndTheLastOfOneMoment() {
        Duration m1 = Duration.ofMinutes(1);
        Duration m2 = Duration.ofMinutes(2);
        tally.committed(Duration.ZERO, ledger.view());
        tally.committed(m1, ledger.view()); // nothing changed: no point
        LeaseId frigate = admit("frigate");
        tally.committed(m2, ledger.view());
        admit("ollama");
        tally.committed(m2, ledger.view()); // the same moment: replaces the point before
        ledger.release(frigate).join();
        tally.committed(Duration.ofMinutes(3), ledger.view());

        ReplayOutcome o = tally.outcome("p", ledger.view());
        assertEquals(List.of(Duration.ZERO, m2, Duration.ofMinutes(3)),
                o.timeline().stream().map(ReplayOutcome.Point::at).toList());
        assertArrayEquals(new long[] {GIB, 2 * GIB}, o.timeline().get(1).committedBytes());
        assertArrayEquals(new long[] {0, 2 * GIB}, o.timeline().get(2).committedBytes());
        assertEquals(3 * GIB, o.peakCommittedBytes());
        assertEquals(GIB, o.services().get("frigate").peakCommittedBytes);
        assertEquals(4 * GIB, o.deviceTotalBytes());
    }

    @Test
    void countsEachOutcomeAndMarksWhatWentWrong() {
        Duration at = Duration.ofHours(18);
        tally.arrived("ollama");
        tally.arrived("ollama");
        tally.arrived("ollama");
        tally.admitted("ollama", Duration.ZERO); // at once: no wait counted
        tally.admitted("ollama", Duration.ofSeconds(20));
        tally.denied("ollama", at);
        tally.preempted("ollama", at.plusMinutes(1));
        tally.outOfMemory("frigate", at.plusMinutes(2));

        ReplayOutcome o = tally.outcome("p", ledger.view());
        ReplayOutcome.ServiceStats ollama = o.services().get("ollama");
        assertEquals(List.of(3, 2, 1, 1, 0), List.of(ollama.arrived, ollama.admitted, ollama.denied,
                ollama.preempted, ollama.outOfMemory));
        assertEquals(List.of(Duration.ofSeconds(20)), ollama.waits);
        assertEquals(1, o.services().get("frigate").outOfMemory);
        assertEquals(List.of(new Mark(at, "ollama", MarkKind.DENIED),
                new Mark(at.plusMinutes(1), "ollama", MarkKind.PREEMPTED),
                new Mark(at.plusMinutes(2), "frigate", MarkKind.OUT_OF_MEMORY)), o.marks());
        assertEquals(List.of("frigate", "ollama"), List.copyOf(o.services().keySet()));
    }
}
