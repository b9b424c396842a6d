package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.sizing.LearnedSizes;
import org.gpuagent.agent.sizing.Recommendation;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.scheduler.ByteSize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpu-agent recommend} on a recorded history, and the metrics made from the same figures. */
class RecommendCommandTest {
    private static final long MIB = 1L << 20;
    private static final Instant T0 = Instant.parse("2026-11-01T19:00:00Z");
    private static final String HD = "ffmpeg:dec=gpu,enc=gpu,out=same,tonemap=none,outputs=1";
    private static final String HDR = "ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=cuda,outputs=1";

    @TempDir
    Path state;

    /** An evening's worth of streams: 203 plain 1080p ones, 9 tone-mapped 4K HDR ones; a few Immich and Ollama leases. */
    private void recordHistory() throws Exception {
        LearnedSizes s = LearnedSizes.open(state);
        for (int i = 0; i < 203; i++) {
            s.record("jellyfin", HD, 300 * MIB, T0.plusSeconds(i));
        }
        for (long mib : new long[] {1200, 1250, 1300, 1330, 1350, 1380, 1400, 1420, 1444}) {
            s.record("jellyfin", HDR, mib * MIB, T0.plusSeconds(mib));
        }
        for (int i = 0; i < 5; i++) {
            s.record("immich", "", 500 * MIB, T0.plusSeconds(i));
        }
        for (int i = 0; i < 10; i++) {
            s.record("ollama", "model:llama3.2", 2400 * MIB, T0.plusSeconds(i));
        }
    }

    private String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = GpuAgentCommand.execute(args, new CliContext(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]),
                Map.of("HOME", state.toString())));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void recommendSaysWhatEachServicesLeasesTook() throws Exception {
        recordHistory();
        assertEquals(String.join("\n",
                "frigate: request 1.07 GiB; keep it: nothing learned yet (no lease of it was seen using the GPU)",
                "jellyfin: request 768 MiB; 212 leases: p50 300 MiB, p99 1.37 GiB, max 1.41 GiB; suggest 1.38 GiB: "
                        + "tone-mapped 1080p ffmpeg streams peaked at 1.41 GiB in 9 of 212 leases",
                "immich: request 1.5 GiB; 5 leases: p50 500 MiB, p99 500 MiB, max 500 MiB; suggest 512 MiB: "
                        + "99% of 5 leases took at most 500 MiB, under half of it",
                "ollama: request 2.5 GiB; 10 leases: p50 2.34 GiB, p99 2.34 GiB, max 2.34 GiB; keep it: it fits: "
                        + "0 of 10 leases peaked above it", ""),
                run("recommend", "--state-dir", state.toString()));
    }

    @Test
    void theMetricsCarryTheSameFiguresAsTheSentence() throws Exception {
        recordHistory();
        List<Recommendation> rs = RecommendCommand.recommendations(ConfigLoader.builtInDefault(), LearnedSizes.open(state));
        GpuMetrics metrics = GpuMetrics.builder().services(List.of("frigate", "jellyfin", "immich", "ollama"))
                .jvmMetrics(false).build();
        metrics.publishLearnedSizes(rs.stream().map(Recommendation::series).toList());
        Recommendation jellyfin = rs.get(1);
        String sentence = jellyfin.sentence();
        assertEquals(1408 * MIB, gauge(metrics, "nvgpu_suggested_request_bytes", "jellyfin", null));
        assertEquals(768 * MIB, gauge(metrics, "nvgpu_service_request_bytes", "jellyfin", null));
        assertEquals(212, gauge(metrics, "nvgpu_learned_leases", "jellyfin", null));
        for (String[] stat : new String[][] {{"p50", "p50 "}, {"p99", "p99 "}, {"max", "max "}}) {
            long v = gauge(metrics, "nvgpu_learned_lease_peak_bytes", "jellyfin", stat[0]);
            assertTrue(sentence.contains(stat[1] + ByteSize.format(v)), stat[0] + " " + v + " vs " + sentence);
        }
        assertTrue(sentence.contains("suggest " + ByteSize.format(gauge(metrics, "nvgpu_suggested_request_bytes",
                "jellyfin", null))), sentence);
    }

    @Test
    void aDamagedHistoryIsOneLineAndExitOne() throws Exception {
        Files.writeString(LearnedSizes.file(state), "garbage");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = GpuAgentCommand.execute(new String[] {"recommend", "--state-dir", state.toString()},
                new CliContext(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]),
                        Map.of()));
        assertEquals(ExitCodes.FAILURE, code);
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.startsWith("gpu-agent recommend: cannot read " + LearnedSizes.file(state)) && e.lines().count() == 1, e);
    }

    private static long gauge(GpuMetrics m, String name, String service, String stat) {
        for (MetricSnapshot s : m.registry().scrape()) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                for (GaugeSnapshot.GaugeDataPointSnapshot d : ((GaugeSnapshot) s).getDataPoints()) {
                    if (service.equals(d.getLabels().get("service"))
                            && (stat == null || stat.equals(d.getLabels().get("stat")))) {
                        return (long) d.getValue();
                    }
                }
            }
        }
        throw new AssertionError("no " + name + " for " + service + " " + stat);
    }
}
