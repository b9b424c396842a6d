package org.gpuagent.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.sizing.FfmpegSizeTable;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.Misfit;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads and validates the YAML configuration. Every problem is collected with its YAML path and
 * line; a configuration with any problem is refused as a whole ({@link ConfigException}).
 *
 * <p>A file that leaves out {@code services} gets the built-in four (Frigate, Jellyfin, Immich,
 * Ollama); every other key has a default too, so an empty file is a valid configuration.
 */
public final class ConfigLoader {

    /** The built-in default, used when {@code run} gets no {@code --config}. */
    public static final String DEFAULT_RESOURCE = "/org/gpuagent/agent/default-config.yaml";

    public static final HostPort DEFAULT_METRICS = new HostPort("0.0.0.0", 9848);
    public static final HostPort DEFAULT_API = new HostPort("127.0.0.1", 9849);
    public static final String DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434";
    /** Root's Podman with the overlay driver: the persistent containers/storage store and the transient one. */
    public static final List<Path> DEFAULT_CONTAINER_STORES = List.of(
            Path.of("/var/lib/containers/storage/overlay-containers"),
            Path.of("/run/containers/storage/overlay-containers"));

    /** Notification event names ({@link NotificationEvent}), as logs and the JSON payload call them. */
    public static final List<String> EVENT_NAMES = NotificationEvent.labels();

    private static final long MAX_YAML_BYTES = 1 << 20;
    /** Deepest nesting read; the configuration's own structure is four levels deep. */
    static final int MAX_DEPTH = 64;

    private ConfigLoader() {
    }

    public static AgentConfig load(Path file) throws ConfigException {
        String text;
        try {
            if (Files.size(file) > MAX_YAML_BYTES) {
                throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, "",
                        "larger than 1 MiB; this is not a gpu-agent configuration")));
            }
            text = utf8(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, "", "no such file")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, "", "cannot read: " + e.getMessage())));
        }
        return parse(text, file.toString());
    }

    public static AgentConfig builtInDefault() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("built-in configuration " + DEFAULT_RESOURCE + " is missing from the jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in default");
        } catch (IOException | ConfigException e) {
            throw new IllegalStateException("the built-in configuration is broken: " + e.getMessage(), e);
        }
    }

    /** The built-in default's YAML text, to print or to start a config file from. */
    public static String builtInDefaultText() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("built-in configuration missing", e);
        }
    }

    /**
     * {@code bytes} as UTF-8; invalid UTF-8 is one problem naming where the first bad byte is (line,
     * column and byte offset), instead of the decoder's "Input length = 1".
     */
    static String utf8(byte[] bytes, String source) throws ConfigException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isUnderflow()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int offset = in.position();
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < offset; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            throw new ConfigException(List.of(new ConfigProblem(source, line, "", String.format(
                    "not UTF-8: byte 0x%02X at column %d (byte offset %d) does not start or continue a character",
                    bytes[offset] & 0xff, offset - lineStart + 1, offset))));
        }
        return out.flip().toString();
    }

    /**
     * Refuses a document nested deeper than {@value #MAX_DEPTH} levels before composing it: the
     * composer (and the walk over its nodes) recurse per level, and ~1,000 levels overflowed the
     * stack into a 1,023-line trace. The parser's event stream is read without recursion.
     */
    private static void checkDepth(String yaml, LoadSettings settings, String source) throws ConfigException {
        int depth = 0;
        for (Event e : new Parse(settings).parseString(yaml)) {
            Event.ID id = e.getEventId();
            if (id == Event.ID.MappingStart || id == Event.ID.SequenceStart) {
                if (++depth > MAX_DEPTH) {
                    int line = e.getStartMark().map(m -> m.getLine() + 1).orElse(0);
                    throw new ConfigException(List.of(new ConfigProblem(source, line, "",
                            "nested deeper than " + MAX_DEPTH + " levels; a gpu-agent configuration is a few levels "
                                    + "deep")));
                }
            } else if (id == Event.ID.MappingEnd || id == Event.ID.SequenceEnd) {
                depth--;
            }
        }
    }

    public static AgentConfig parse(String yaml, String source) throws ConfigException {
        List<ConfigProblem> problems = new ArrayList<>();
        Node root;
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(source).setAllowDuplicateKeys(true)
                    .setMaxAliasesForCollections(10).build();
            checkDepth(yaml, settings, source);
            root = new Compose(settings).composeString(yaml).orElse(null);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new ConfigException(List.of(new ConfigProblem(source, line, "",
                    "not valid YAML: " + e.getProblem())));
        } catch (YamlEngineException e) {
            throw new ConfigException(List.of(new ConfigProblem(source, 0, "", "not valid YAML: " + e.getMessage())));
        }
        YamlSection top = new YamlSection(source, "", root, problems);
        AgentConfig config = read(top, source, problems);
        top.finish();
        if (!problems.isEmpty()) {
            problems.sort((a, b) -> Integer.compare(a.line(), b.line()));
            throw new ConfigException(problems);
        }
        return config;
    }

    private static AgentConfig read(YamlSection top, String source, List<ConfigProblem> problems) {
        String device = top.string("device", "0").strip();
        if (!device.matches("\\d+") && !device.startsWith("GPU-") && !device.startsWith("MIG-")) {
            top.problem(top.lineOf("device"), "device", "\"" + device + "\" is neither an NVML index (0, 1, ...) nor a UUID (GPU-...)");
        }
        OptionalLong deviceMemory = top.has("device-memory")
                ? OptionalLong.of(top.size("device-memory", 0)) : OptionalLong.empty();
        Headroom headroom = headroom(top);

        YamlSection s = top.section("sampling");
        Duration interval = s.duration("interval", Duration.ofSeconds(1));
        if (interval.compareTo(Duration.ofMillis(100)) < 0 || interval.compareTo(Duration.ofMinutes(5)) > 0) {
            s.problem(s.lineOf("interval"), "sampling.interval", Durations.format(interval)
                    + " is outside 100ms-5m (NVML's own sample period is about 20-170 ms; faster only burns CPU)");
        }
        int slowEvery = s.integer("slow-every", 5, 1, 3600);
        Duration callTimeout = s.duration("call-timeout", Duration.ofSeconds(5));
        if (callTimeout.isZero()) {
            s.problem(s.lineOf("call-timeout"), "sampling.call-timeout", "must be more than 0");
        }
        Duration evictionInterval = s.duration("eviction-interval", AgentConfig.Sampling.DEFAULT_EVICTION_INTERVAL);
        if (evictionInterval.compareTo(Duration.ofMillis(20)) < 0 || evictionInterval.compareTo(Duration.ofSeconds(5)) > 0) {
            s.problem(s.lineOf("eviction-interval"), "sampling.eviction-interval", Durations.format(evictionInterval)
                    + " is outside 20ms-5s (it decides how soon a preempting admission sees the memory back)");
        }
        s.finish();

        YamlSection l = top.section("listen");
        HostPort metrics = l.hostPort("metrics", DEFAULT_METRICS);
        HostPort api = l.hostPort("api", DEFAULT_API);
        if (metrics.port() != 0 && metrics.port() == api.port() && metrics.host().equals(api.host())) {
            l.problem(l.lineOf("api"), "listen.api", "the API and metrics listeners cannot share " + api);
        }
        l.finish();

        Optional<Path> stateDir = top.scalar("state-dir").map(Path::of);
        Optional<Path> nvmlLibrary = top.scalar("nvml-library").map(String::strip).map(Path::of);
        if (nvmlLibrary.isPresent() && !nvmlLibrary.get().isAbsolute()) {
            top.problem(top.lineOf("nvml-library"), "nvml-library", "\"" + nvmlLibrary.get()
                    + "\" must be an absolute path to libnvidia-ml.so.1");
        }

        YamlSection r = top.section("reconcile");
        Duration grace = r.duration("grace", Duration.ofSeconds(30));
        long tolerance = r.has("over-use-tolerance") ? r.size("over-use-tolerance", 64 * ByteSize.MIB) : 64 * ByteSize.MIB;
        r.finish();

        YamlSection e = top.section("exporter");
        boolean pidLabels = e.bool("pid-labels", false);
        List<Path> containerStores = DEFAULT_CONTAINER_STORES;
        if (e.has("container-stores")) {
            containerStores = new ArrayList<>();
            for (String dir : e.strings("container-stores")) {
                Path p = Path.of(dir.strip());
                if (!p.isAbsolute()) {
                    e.problem(e.lineOf("container-stores"), "exporter.container-stores", "\"" + dir
                            + "\" must be an absolute path (a containers/storage directory holding containers.json)");
                }
                containerStores.add(p);
            }
        }
        e.finish();

        AgentConfig.Reconcile reconcile = new AgentConfig.Reconcile(grace, tolerance);
        ServicesSection.Read services;
        if (top.has("services")) {
            services = ServicesSection.read(top.section("services"), reconcile);
        } else {
            top.node("services");
            services = new ServicesSection.Read(ServicesSection.reconciled(builtInServices(source, problems), reconcile),
                    top.lineOf("device-memory"), Map.of());
        }
        if (deviceMemory.isPresent() && deviceMemory.getAsLong() > 0) {
            for (Misfit m : Misfit.of(deviceMemory.getAsLong(), headroom, services.scheduled())) {
                int line = m.kind() == Misfit.Kind.NO_BUDGET ? top.lineOf("headroom") : services.lineOf(m);
                top.problem(line, AgentConfig.pathOf(m), m.sentence());
            }
        }

        AgentConfig.Notifications notifications = NotificationsSection.read(top.section("notifications"));
        FfmpegSizeTable ffmpegSizes = SizingSection.read(top.section("sizing"));
        Optional<AgentConfig.OllamaProxy> ollama = OllamaSection.read(top, services.services(), List.of(metrics, api));

        return new AgentConfig(device, deviceMemory, headroom, new AgentConfig.Sampling(interval, slowEvery, callTimeout, evictionInterval),
                new AgentConfig.Listen(metrics, api), stateDir, reconcile,
                new AgentConfig.Exporter(pidLabels, containerStores), services.services(), notifications, nvmlLibrary,
                ffmpegSizes, ollama);
    }

    private static Headroom headroom(YamlSection top) {
        Optional<String> v = top.scalar("headroom");
        if (v.isEmpty() || v.get().strip().equalsIgnoreCase("auto")) {
            return Headroom.auto();
        }
        String t = v.get().strip();
        if (t.endsWith("%")) {
            double pct;
            try {
                pct = Double.parseDouble(t.substring(0, t.length() - 1).strip());
            } catch (NumberFormatException e) {
                top.problem(top.lineOf("headroom"), "headroom", "\"" + t + "\" is not a percentage");
                return Headroom.auto();
            }
            try {
                return Headroom.percent(pct);
            } catch (IllegalArgumentException e) {
                top.problem(top.lineOf("headroom"), "headroom", e.getMessage());
                return Headroom.auto();
            }
        }
        if (t.equals("0")) {
            return Headroom.fixed(0);
        }
        try {
            return Headroom.fixed(ByteSize.parse(t));
        } catch (IllegalArgumentException e) {
            top.problem(top.lineOf("headroom"), "headroom", e.getMessage() + "; or write auto or a percentage like 5%");
            return Headroom.auto();
        }
    }

    private static List<ServiceConfig> builtInServices(String source, List<ConfigProblem> problems) {
        if (source.equals("built-in default")) {
            problems.add(new ConfigProblem(source, 0, "services", "the built-in default must list its services"));
            return List.of();
        }
        return builtInDefault().services();
    }
}
