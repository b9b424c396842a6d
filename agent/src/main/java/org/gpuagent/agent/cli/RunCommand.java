package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.HostPort;
import org.gpuagent.agent.daemon.Backend;
import org.gpuagent.agent.daemon.Daemon;
import org.gpuagent.agent.logging.DaemonLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "run", sortOptions = false, description = {"Run the agent (until SIGTERM or SIGINT).",
        "Without --config it runs the built-in configuration: Frigate, Jellyfin, Immich and Ollama on GPU 0."})
final class RunCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "The YAML configuration (default: built in).")
    Path config;

    @Option(names = "--backend", paramLabel = "auto|nvml|sim", defaultValue = "auto",
            description = "auto: NVML when libnvidia-ml loads, else the simulated Quadro P1000 (default); "
                    + "nvml: a GPU or fail; sim: the simulator.")
    String backend;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
            description = "Where /metrics and /healthz listen (default: listen.metrics, 0.0.0.0:9848).")
    String metricsListen;

    @Option(names = "--api-listen", paramLabel = "HOST:PORT",
            description = "Where the /v1 API listens (default: listen.api, 127.0.0.1:9849).")
    String apiListen;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Journal and API token (default: $GPU_AGENT_STATE_DIR, state-dir in the "
                    + "configuration, /var/lib/gpu-agent if writable, else $XDG_STATE_HOME/gpu-agent).")
    Path stateDir;

    @Option(names = "--nvml-library", paramLabel = "PATH",
            description = "Load exactly this libnvidia-ml (default: nvml-library in the configuration, else "
                    + "the usual places).")
    Path nvmlLibrary;

    RunCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws InterruptedException {
        Backend.Choice choice;
        Optional<HostPort> metrics;
        Optional<HostPort> api;
        try {
            choice = Backend.Choice.parse(backend);
            metrics = Optional.ofNullable(metricsListen).map(HostPort::parse);
            api = Optional.ofNullable(apiListen).map(HostPort::parse);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        AgentConfig c;
        String source = config == null ? "built-in default" : config.toString();
        try {
            c = config == null ? ConfigLoader.builtInDefault() : ConfigLoader.load(config);
        } catch (ConfigException e) {
            CheckConfigCommand.printProblems(e, source, ctx.err());
            return ExitCodes.FAILURE;
        }
        DaemonLog.configure(ctx.err(), ctx.env());
        DaemonLog.bridgeJavaUtilLogging();
        Path dir;
        if (stateDir != null || ctx.env().get(StateDirectory.ENV) != null || c.stateDir().isEmpty()) {
            dir = StateDirectory.resolve(Optional.ofNullable(stateDir), ctx.env());
        } else {
            dir = c.stateDir().get();
        }
        Daemon daemon;
        try {
            daemon = Daemon.start(new Daemon.Options(c, source, choice, metrics, api, dir,
                    Optional.ofNullable(nvmlLibrary).or(c::nvmlLibrary)));
        } catch (Daemon.StartupException e) {
            DaemonLog.log(DaemonLog.Severity.ERROR, "gpu-agent not started: " + e.getMessage(),
                    DaemonLog.debugEnabled() ? e : null);
            return ExitCodes.FAILURE;
        }
        Thread hook = new Thread(daemon::close, "gpu-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        daemon.awaitStopped();
        return ExitCodes.OK;
    }
}
