package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.sizing.LearnedSizes;
import org.gpuagent.exporter.GpuMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's learned-size store: how it opens, and the metrics it publishes when run. */
class LearnedSizesPublisherTest {
    private static final long MIB = 1L << 20;
    private final AgentConfig config = ConfigLoader.builtInDefault();
    private final GpuMetrics metrics = GpuMetrics.builder().jvmMetrics(false).build();

    @TempDir
    Path state;

    /** The value of {@code name} for {@code service}; -1 when it is not published. */
    private long published(String name, String service) {
        return metrics.registry().scrape().stream().filter(s -> s.getMetadata().getPrometheusName().equals(name))
                .flatMap(s -> ((GaugeSnapshot) s).getDataPoints().stream())
                .filter(d -> service.equals(d.getLabels().get("service")) && d.getLabels().get("stat") == null)
                .mapToLong(d -> (long) d.getValue()).findFirst().orElse(-1);
    }

    @Test
    void publishesEachConfiguredRequestAndWhatWasLearnedSinceTheLastRun() throws Exception {
        LearnedSizesPublisher sizes = LearnedSizesPublisher.open(state, config.services(), metrics);
        sizes.run();
        long jellyfinRequest = config.service("jellyfin").orElseThrow().requestBytes();
        assertEquals(jellyfinRequest, published("nvgpu_service_request_bytes", "jellyfin"));
        assertEquals(-1, published("nvgpu_learned_leases", "jellyfin"), "nothing learned: no such series");

        sizes.store().record("jellyfin", "", 300 * MIB, Instant.parse("2026-11-01T19:00:00Z"));
        sizes.store().record("jellyfin", "", 310 * MIB, Instant.parse("2026-11-01T19:05:00Z"));
        assertEquals(-1, published("nvgpu_learned_leases", "jellyfin"), "published only when run");
        sizes.run();
        assertEquals(2, published("nvgpu_learned_leases", "jellyfin"));
        assertEquals(jellyfinRequest, published("nvgpu_service_request_bytes", "jellyfin"));
    }

    @Test
    void aDamagedFileIsSetAsideAndLearningStartsEmpty() throws Exception {
        Files.writeString(LearnedSizes.file(state), "garbage");
        LearnedSizesPublisher sizes = LearnedSizesPublisher.open(state, config.services(), metrics);
        assertTrue(sizes.store().all().isEmpty());
        assertEquals("garbage", Files.readString(state.resolve(LearnedSizes.FILE_NAME + LearnedSizes.DAMAGED_SUFFIX)));
    }

    @Test
    void anUnreadableFileRefusesTheStartSayingHowToStartAfresh() throws Exception {
        Files.createDirectory(LearnedSizes.file(state));
        Daemon.StartupException e = assertThrows(Daemon.StartupException.class,
                () -> LearnedSizesPublisher.open(state, config.services(), metrics));
        assertTrue(e.getMessage().startsWith("cannot read the learned sizes in " + LearnedSizes.file(state) + ": ")
                && e.getMessage().endsWith(" (move it away to start learning afresh)"), e.getMessage());
    }
}
