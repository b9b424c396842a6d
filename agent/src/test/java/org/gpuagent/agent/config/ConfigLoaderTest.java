package org.gpuagent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.gpuagent.agent.config.ServiceConfig.Preemption;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    @Test
    void builtInDefaultHasTheOwnersFourServices() {
        AgentConfig c = ConfigLoader.builtInDefault();
        assertEquals(List.of("frigate", "jellyfin", "immich", "ollama"),
                c.services().stream().map(ServiceConfig::name).toList());
        assertEquals(PriorityClass.CRITICAL, c.service("frigate").orElseThrow().priority());
        assertEquals(PriorityClass.OPPORTUNISTIC, c.service("ollama").orElseThrow().priority());
        assertEquals(Preemption.Action.OLLAMA_UNLOAD, c.service("ollama").orElseThrow().preemption().action());
        assertEquals(2560 * ByteSize.MIB, c.service("ollama").orElseThrow().requestBytes());
        long total = 4096 * ByteSize.MIB;
        // auto headroom on 4 GiB is 5% (204.8 MiB), more than the 192 MiB floor
        assertEquals(total - total / 20, c.budgetFor(total));
        assertEquals(new HostPort("0.0.0.0", 9848), c.listen().metrics());
        assertEquals(new HostPort("127.0.0.1", 9849), c.listen().api());
        // the default is contended on purpose: all four do not fit in the budget
        long sum = c.services().stream().mapToLong(ServiceConfig::requestBytes).sum();
        assertTrue(sum > c.budgetFor(total));
    }

    @Test
    void emptyFileIsTheDefaultServicesWithDefaults() throws Exception {
        AgentConfig c = ConfigLoader.parse("", "empty.yaml");
        assertEquals(4, c.services().size());
        assertEquals(Duration.ofSeconds(1), c.sampling().interval());
        assertTrue(c.deviceMemoryBytes().isEmpty());
    }

    @Test
    void readsAFullService() throws Exception {
        AgentConfig c = ConfigLoader.parse("""
                device: GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31
                headroom: 256MiB
                services:
                  whisper:
                    priority: batch
                    request: 900MiB
                    fail-mode: open
                    match:
                      containers: whisper
                    preemption: stop-container
                    eviction-deadline: 45s
                """, "t.yaml");
        ServiceConfig s = c.service("whisper").orElseThrow();
        assertEquals(900 * ByteSize.MIB, s.requestBytes());
        assertEquals(ServiceConfig.FailMode.OPEN, s.failMode());
        assertEquals(new Preemption(Preemption.Action.STOP_CONTAINER, java.util.Optional.of("whisper")), s.preemption());
        assertEquals(Duration.ofSeconds(45), s.evictionDeadline());
        assertEquals(256 * ByteSize.MIB, c.headroom().bytesFor(4096 * ByteSize.MIB));
    }

    /** An ordered list of actions (escalation), or a mapping with {@code then}; the single-action forms still parse. */
    @Test
    void preemptionEscalatesThroughAnOrderedListOfActions() throws ConfigException {
        AgentConfig c = ConfigLoader.parse("""
                sampling:
                  eviction-interval: 200ms
                services:
                  llm:
                    priority: opportunistic
                    request: 2GiB
                    match:
                      units: ollama.service
                    preemption: [ollama-unload, stop-unit]
                  llm2:
                    priority: opportunistic
                    request: 1GiB
                    match:
                      units: ollama2.service
                    preemption:
                      action: ollama-unload
                      url: http://127.0.0.1:11500
                      then: [restart-unit, stop-unit]
                """, "t.yaml");
        assertEquals(Duration.ofMillis(200), c.sampling().evictionInterval());
        assertEquals(List.of(new Preemption(Preemption.Action.OLLAMA_UNLOAD, java.util.Optional.of(ConfigLoader.DEFAULT_OLLAMA_URL)),
                new Preemption(Preemption.Action.STOP_UNIT, java.util.Optional.of("ollama.service"))),
                c.service("llm").orElseThrow().preemption().steps());
        assertEquals(List.of(Preemption.Action.OLLAMA_UNLOAD, Preemption.Action.RESTART_UNIT, Preemption.Action.STOP_UNIT),
                c.service("llm2").orElseThrow().preemption().steps().stream().map(Preemption::action).toList());
        assertEquals(java.util.Optional.of("http://127.0.0.1:11500"),
                c.service("llm2").orElseThrow().preemption().steps().get(0).target());
        assertEquals(1, ConfigLoader.parse("services:\n  a:\n    priority: batch\n    request: 1GiB\n"
                + "    preemption: ollama-unload\n", "t.yaml").service("a").orElseThrow().preemption().steps().size(),
                "the single-action form: one step");
    }

    /** Each bad config names the path and the line of the problem. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown top-level key|sampleing:\\n  interval: 1s|1|sampleing|did you mean \"sampling\"",
        "unknown nested key|sampling:\\n  intervall: 2s|2|sampling.intervall|did you mean \"interval\"",
        "bad size|services:\\n  a:\\n    priority: batch\\n    request: 12 parsecs|4|services.a.request|unknown unit",
        "negative size|services:\\n  a:\\n    priority: batch\\n    request: -1GiB|4|services.a.request|negative",
        "bad duration|sampling:\\n  call-timeout: forever|2|sampling.call-timeout|not a duration",
        "bad priority|services:\\n  a:\\n    priority: urgent\\n    request: 1GiB|3|services.a.priority|not critical",
        "missing request|services:\\n  a:\\n    priority: batch|2|services.a.request|missing",
        "duplicate service|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n  a:\\n    priority: batch\\n    request: 1GiB|5|services.a|duplicate key (first at line 2)",
        "critical alone over budget|device-memory: 4GiB\\nservices:\\n  f:\\n    priority: critical\\n    request: 4GiB|5|services.f.request|alone exceeds the budget",
        "criticals together over budget|device-memory: 4GiB\\nservices:\\n  f:\\n    priority: critical\\n    request: 2GiB\\n  g:\\n    priority: critical\\n    request: 2GiB|2|services|critical services together",
        "preempting a critical|services:\\n  f:\\n    priority: critical\\n    request: 1GiB\\n    preemption: stop-unit\\n    match:\\n      units: f.service|5|services.f.preemption|never preempted",
        "unknown action|services:\\n  f:\\n    priority: batch\\n    request: 1GiB\\n    preemption: explode|5|services.f.preemption|not one of",
        "stop-unit without a unit|services:\\n  f:\\n    priority: batch\\n    request: 1GiB\\n    preemption: stop-unit|5|services.f.preemption|needs a unit",
        "bad listen address|listen:\\n  api: localhost|2|listen.api|no port",
        "same listener twice|listen:\\n  metrics: 127.0.0.1:9000\\n  api: 127.0.0.1:9000|3|listen.api|cannot share",
        "bad device|device: the-big-one|1|device|neither an NVML index",
        "headroom too big|device-memory: 4GiB\\nheadroom: 5GiB|2|headroom|leaves no budget",
        "bad webhook|notifications:\\n  webhooks:\\n    - url: ftp://x\\n      events: [boom]|3|notifications.webhooks[0].url|not an http(s) URL",
        "sampling too fast|sampling:\\n  interval: 10ms|2|sampling.interval|outside 100ms-5m",
        "bad service name|services:\\n  Big Service:\\n    priority: batch\\n    request: 1GiB|2|services.Big Service|lower-case",
        "not YAML|services: [unclosed|1||not valid YAML",
        "one unit under two services|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [ollama.service]\\n  b:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [ollama]|11|services.b.match.units|ollama.service is already listed under services.a.match.units",
        "unit name with a slash|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [../../etc]|6|services.a.match.units|not a systemd unit name",
        "unit name with a space|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: ['my app.service']|6|services.a.match.units|not a systemd unit name",
        "unit name starting with a dash|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [--force]|6|services.a.match.units|not a systemd unit name",
        "template unit|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [worker@.service]|6|services.a.match.units|worker@1.service",
        "two @ in a unit|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      units: [a@b@c.service]|6|services.a.match.units|not a systemd unit name",
        "bad preemption unit|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    preemption:\\n      action: restart-unit\\n      unit: -x|6|services.a.preemption.unit|not a systemd unit name",
        "none in an escalation|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    preemption: [ollama-unload, none]|5|services.a.preemption|none cannot be an escalation step",
        "empty escalation|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    preemption: []|5|services.a.preemption|an empty list",
        "unknown escalation step|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    preemption:\\n      action: ollama-unload\\n      then: [explode]|6|services.a.preemption|\"explode\" is not one of",
        "eviction reads too fast|sampling:\\n  eviction-interval: 5ms|2|sampling.eviction-interval|outside 20ms-5s",
        "bad container name|services:\\n  a:\\n    priority: batch\\n    request: 1GiB\\n    match:\\n      containers: [-rm]|6|services.a.match.containers|not a container name",
    })
    void reportsPathAndLine(String name, String yaml, int line, String path, String fragment) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml.replace("\\n", "\n"), "bad.yaml"));
        String all = e.problems().stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
        assertTrue(e.problems().stream().anyMatch(p -> p.line() == line && p.path().equals(path == null ? "" : path)
                && p.message().contains(fragment)), () -> "wanted line " + line + " " + path + " ~ " + fragment + " in:\n" + all);
    }

    /** check-config (against device-memory) and run (against the GPU found) run the scheduler's one fit check. */
    @Test
    void checkConfigAndRunRefuseTheSameMisfits() throws Exception {
        String services = """
                services:
                  f:
                    priority: critical
                    request: 3GiB
                  g:
                    priority: critical
                    request: 1GiB
                  o:
                    priority: opportunistic
                    request: 5GiB
                    preemption: ollama-unload
                """;
        AgentConfig unchecked = ConfigLoader.parse(services, "t.yaml");
        ConfigException atRun = assertThrows(ConfigException.class, () -> unchecked.schedulerConfig(4 * ByteSize.GIB));
        ConfigException atCheck = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("device-memory: 4GiB\n" + services, "t.yaml"));
        List<String> expected = List.of("services.o.request: 5 GiB alone exceeds the budget of 3.8 GiB (4 GiB device"
                + " minus 204.8 MiB headroom): it could never be admitted", "services: critical services together"
                + " request 4 GiB, more than the budget of 3.8 GiB (4 GiB device minus 204.8 MiB headroom); critical"
                + " leases are never preempted, so they cannot all run");
        assertEquals(expected, atRun.problems().stream().map(p -> p.path() + ": " + p.message()).toList());
        assertEquals(List.of(2, 11), atCheck.problems().stream().map(ConfigProblem::line).toList());
        assertEquals(List.of(expected.get(1), expected.get(0)), atCheck.problems().stream()
                .map(p -> p.path() + ": " + p.message()).toList(), "sorted by line");
        assertEquals(4 * ByteSize.GIB, unchecked.schedulerConfig(8 * ByteSize.GIB).budgetOn(4 * ByteSize.GIB)
                .deviceTotalBytes());
    }

    /** The services the ledger gets carry the file's reconcile settings, the built-in ones too. */
    @Test
    void reconcileSettingsReachEveryService() throws Exception {
        for (String services : List.of("", "services:\n  a:\n    priority: batch\n    request: 1GiB\n")) {
            AgentConfig c = ConfigLoader.parse("reconcile:\n  grace: 45s\n  over-use-tolerance: 128MiB\n" + services,
                    "t.yaml");
            for (Service s : c.schedulerConfig(4 * ByteSize.GIB).services()) {
                assertEquals(Duration.ofSeconds(45), s.reconciliationGrace(), s.name());
                assertEquals(128 * ByteSize.MIB, s.overUseToleranceBytes(), s.name());
            }
        }
        ServiceConfig ollama = ConfigLoader.builtInDefault().service("ollama").orElseThrow();
        assertTrue(ollama.service().preemptible());
        assertEquals(PriorityClass.OPPORTUNISTIC, ollama.service().priority());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"NaN%|outside 0-99%", "100%|outside 0-99%", "-1%|outside 0-99%",
        "lots%|not a percentage", "Infinity%|outside 0-99%"})
    void aHeadroomPercentageOutsideItsRangeIsAProblem(String headroom, String fragment) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("headroom: " + headroom + "\n",
                "t.yaml"));
        assertEquals(1, e.problems().size(), e.problems().toString());
        assertEquals("headroom", e.problems().get(0).path());
        assertTrue(e.problems().get(0).message().contains(fragment), e.problems().toString());
    }

    @Test
    void oneServiceMayListAUnitTwiceAndUnitsAreSpelledAsSystemdDoes() throws Exception {
        AgentConfig c = ConfigLoader.parse("""
                services:
                  a:
                    priority: batch
                    request: 1.2GiB
                    match:
                      units: [ollama, ollama.service, worker@1.service, user@1000.service]
                """, "t.yaml");
        assertEquals(1288490188L, c.service("a").orElseThrow().requestBytes(), "a fractional size, rounded down");
        assertEquals(java.util.Optional.of("ollama.service"), UnitNames.canonical("ollama"));
        assertEquals(java.util.Optional.of("x.scope"), UnitNames.canonical("x.scope"));
        assertEquals(java.util.Optional.empty(), UnitNames.canonical("a/b"));
        assertEquals(java.util.Optional.empty(), UnitNames.canonical("x".repeat(UnitNames.MAX_LENGTH)));
    }

    @Test
    void reportsEveryProblemNotJustTheFirst() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                sampling:
                  interval: soon
                  slow-every: 0
                services:
                  a:
                    priority: meh
                    request: lots
                    colour: blue
                """, "many.yaml"));
        List<String> paths = e.problems().stream().map(ConfigProblem::path).toList();
        assertEquals(List.of("sampling.interval", "sampling.slow-every", "services.a.priority", "services.a.request", "services.a.colour"), paths);
        assertTrue(e.getMessage().startsWith("5 problems"), e.getMessage());
        assertTrue(e.problems().get(0).toString().startsWith("many.yaml:2: sampling.interval: "), e.problems().get(0).toString());
    }

    @Test
    void missingFileIsAProblemNotAStackTrace(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml")));
        assertEquals("no such file", e.problems().get(0).message());
    }

    @Test
    void loadsFromAFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, ConfigLoader.builtInDefaultText());
        assertEquals(ConfigLoader.builtInDefault(), ConfigLoader.load(f));
    }

    @Test
    void nvmlLibraryIsAnAbsolutePath() throws Exception {
        assertEquals(java.util.Optional.of(Path.of("/run/opengl-driver/lib/libnvidia-ml.so.1")),
                ConfigLoader.parse("nvml-library: /run/opengl-driver/lib/libnvidia-ml.so.1\n", "t.yaml").nvmlLibrary());
        assertEquals(java.util.Optional.empty(), ConfigLoader.parse("", "t.yaml").nvmlLibrary());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("nvml-library: lib.so\n", "t.yaml"));
        assertTrue(e.getMessage().contains("t.yaml:1: nvml-library: \"lib.so\" must be an absolute path"), e.getMessage());
    }

    /** Issue 14: a configuration nested ~1,000 levels printed a 1,023-line stack trace. */
    @ParameterizedTest
    @ValueSource(ints = {ConfigLoader.MAX_DEPTH + 1, 1000, 100_000})
    void deepNestingIsOneProblemNotAStackOverflow(int depth) {
        for (String yaml : List.of("services: " + "[".repeat(depth) + "]".repeat(depth) + "\n",
                "services: " + "{a: ".repeat(depth) + "1" + "}".repeat(depth) + "\n",
                "x:\n" + "- ".repeat(Math.min(depth, 5000)) + "1\n")) {
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "deep.yaml"));
            assertEquals(1, e.problems().size(), yaml.substring(0, 20) + ": " + e.problems());
            assertTrue(e.problems().get(0).message().contains("nested deeper than " + ConfigLoader.MAX_DEPTH),
                    e.problems().toString());
            assertEquals(yaml.startsWith("x:") ? 2 : 1, e.problems().get(0).line());
        }
    }

    /** Issue 14: invalid UTF-8 in the configuration was reported without its place. */
    @Test
    void invalidUtf8NamesItsLineColumnAndOffset(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        byte[] head = "device: 0\nservices:\n  frigate:\n    request: 1G".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(head, head.length + 2);
        bytes[head.length] = (byte) 0xC3;
        bytes[head.length + 1] = (byte) 0x28;
        Files.write(f, bytes);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f));
        assertEquals(1, e.problems().size());
        ConfigProblem p = e.problems().get(0);
        assertEquals(4, p.line());
        assertTrue(p.message().contains("not UTF-8: byte 0xC3 at column 16 (byte offset " + head.length + ")"),
                p.toString());
        assertTrue(p.toString().startsWith(f + ":4: "), p.toString());
    }

    @Test
    void theFfmpegSizeTableDefaultsAndMayBeReplacedEntryByEntry() throws Exception {
        assertEquals(org.gpuagent.agent.sizing.FfmpegSizeTable.DEFAULTS, ConfigLoader.parse("", "empty.yaml").ffmpegSizes());
        AgentConfig c = ConfigLoader.parse("""
                sizing:
                  ffmpeg:
                    context: 200MiB
                    decode: {2160p: 500MiB}
                    tonemap: 700MiB
                """, "sizing.yaml");
        assertEquals(200 * ByteSize.MIB, c.ffmpegSizes().context());
        assertEquals(500 * ByteSize.MIB, c.ffmpegSizes().decodeByHeight().get(2160));
        assertEquals(60 * ByteSize.MIB, c.ffmpegSizes().decodeByHeight().get(1080), "the rest keep their defaults");
        assertEquals(700 * ByteSize.MIB, c.ffmpegSizes().tonemap());
    }

    @Test
    void aMistypedSizingKeyIsReportedWithItsPath() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                sizing:
                  ffmpeg:
                    decode: {4k: 500MiB}
                    tonemapp: 1GiB
                """, "bad.yaml"));
        String all = e.problems().stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
        assertTrue(e.problems().stream().anyMatch(p -> p.path().equals("sizing.ffmpeg.decode.4k")), all);
        assertTrue(e.problems().stream().anyMatch(p -> p.path().equals("sizing.ffmpeg.tonemapp")
                && p.message().contains("tonemap")), all);
    }
}
