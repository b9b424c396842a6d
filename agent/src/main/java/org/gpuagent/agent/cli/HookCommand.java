package org.gpuagent.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.scheduler.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "hook", description = "Runtime hooks.", subcommands = HookCommand.Oci.class)
final class HookCommand {

    /**
     * The OCI hook (Podman hooks.d, runc/crun). Reads the container state JSON on stdin
     * ({@code id}, {@code pid}, {@code bundle}, {@code annotations}); without annotations in the
     * state it reads {@code <bundle>/config.json}. Annotation {@code gpu-agent.service} names the
     * service (absent: the container is not managed, exit 0); {@code gpu-agent.vram} and
     * {@code gpu-agent.wait} give the size and the wait. The holder is {@code oci:<id>}, the
     * container's init pid rides along with the lease.
     */
    @Command(name = "oci", description = {"The OCI hook: container state JSON on stdin.",
            "prestart/createRuntime admit (non-zero exit with a one-line reason aborts the start); "
                    + "poststop releases (always exit 0)."})
    static final class Oci implements Callable<Integer> {
        static final int MAX_STATE_BYTES = 1 << 20;
        static final String SERVICE = "gpu-agent.service";
        static final String VRAM = "gpu-agent.vram";
        static final String WAIT = "gpu-agent.wait";

        private final CliContext ctx;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "STAGE", description = "prestart, createRuntime or poststop")
        String stage;

        @Mixin
        ConfigOption config;

        Oci(CliContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() {
            boolean admit = stage.equals("prestart") || stage.equals("createRuntime");
            boolean release = stage.equals("poststop");
            if (!admit && !release) {
                ctx.err().println("gpu-agent hook: unknown stage '" + stage + "' (prestart, createRuntime or poststop)");
                return ExitCodes.USAGE;
            }
            ContainerState state;
            try {
                state = ContainerState.read(ctx.in());
            } catch (IOException | IllegalArgumentException e) {
                ctx.err().println("gpu-agent hook: cannot read the container state on stdin: " + e.getMessage());
                return release ? ExitCodes.OK : ExitCodes.USAGE;
            }
            Optional<String> service = state.annotation(SERVICE).map(String::strip).filter(s -> !s.isEmpty());
            if (service.isEmpty()) {
                return ExitCodes.OK;
            }
            String holder = "oci:" + state.id();
            ClientConfig agentConfig = config.clientConfig();
            ApiClient api;
            try {
                api = client.client(ctx, agentConfig);
            } catch (picocli.CommandLine.ParameterException e) {
                ctx.err().println("gpu-agent hook: " + e.getMessage());
                return release ? ExitCodes.OK : ExitCodes.USAGE;
            }
            return admit ? admit(api, agentConfig, service.get(), holder, state) : release(api, holder);
        }

        private int admit(ApiClient api, ClientConfig agentConfig, String service, String holder, ContainerState state) {
            OptionalLong bytes = OptionalLong.empty();
            Duration wait = Duration.ZERO;
            try {
                Optional<String> v = state.annotation(VRAM);
                if (v.isPresent()) {
                    bytes = OptionalLong.of(ByteSize.parse(v.get()));
                }
                Optional<String> w = state.annotation(WAIT);
                if (w.isPresent()) {
                    wait = Durations.parse(w.get());
                }
            } catch (IllegalArgumentException e) {
                ctx.err().println("gpu-agent hook: container " + state.id() + ": bad annotation: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            List<Long> pids = state.pid() > 0 ? List.of(state.pid()) : List.of();
            return new Admitter(ctx, "gpu-agent hook").admit(api,
                    new Admitter.Request(service, bytes, wait, Optional.of(holder), pids), agentConfig, false);
        }

        private int release(ApiClient api, String holder) {
            try {
                ApiClient.Response r = api.call("DELETE", "/v1/leases?holder="
                        + URLEncoder.encode(holder, StandardCharsets.UTF_8), null, Duration.ofSeconds(30));
                if (r.status() != 204) {
                    ctx.err().println("gpu-agent hook: warning: releasing " + holder + ": HTTP " + r.status() + ": "
                            + r.message());
                }
            } catch (ApiClient.Unreachable e) {
                ctx.err().println("gpu-agent hook: warning: " + e.getMessage() + "; " + holder
                        + "'s lease stays until the agent reclaims it");
            }
            return ExitCodes.OK;
        }
    }

    /** The parts of the OCI state (runtime-spec "State") the hook uses. */
    record ContainerState(String id, long pid, Map<String, Object> annotations) {

        Optional<String> annotation(String key) {
            Object v = annotations.get(key);
            return v instanceof String s ? Optional.of(s) : Optional.empty();
        }

        static ContainerState read(java.io.InputStream in) throws IOException {
            byte[] b = in.readNBytes(Oci.MAX_STATE_BYTES + 1);
            if (b.length > Oci.MAX_STATE_BYTES) {
                throw new IOException("more than " + Oci.MAX_STATE_BYTES + " bytes");
            }
            Map<String, Object> m = JSON.std.mapFrom(new String(b, StandardCharsets.UTF_8));
            if (m == null) {
                throw new IOException("empty");
            }
            if (!(m.get("id") instanceof String id) || id.isBlank()) {
                throw new IOException("no container \"id\"");
            }
            long pid = m.get("pid") instanceof Number n ? n.longValue() : 0;
            Object ann = m.get("annotations");
            if (!(ann instanceof Map<?, ?>) && m.get("bundle") instanceof String bundle && !bundle.isBlank()) {
                Path spec = Path.of(bundle).resolve("config.json");
                if (Files.size(spec) > 16L * Oci.MAX_STATE_BYTES) {
                    throw new IOException(spec + " is too large");
                }
                Map<String, Object> config = JSON.std.mapFrom(Files.readString(spec, StandardCharsets.UTF_8));
                ann = config == null ? null : config.get("annotations");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> annotations = ann instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of();
            return new ContainerState(id, pid, annotations);
        }
    }
}
