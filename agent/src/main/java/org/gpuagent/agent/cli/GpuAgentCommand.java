package org.gpuagent.agent.cli;

import java.lang.reflect.Constructor;
import org.gpuagent.agent.Version;
import org.gpuagent.agent.logging.DaemonLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gpu-agent} command line: the contract's commands, exit codes and options. */
@Command(name = "gpu-agent", mixinStandardHelpOptions = true, versionProvider = GpuAgentCommand.VersionProvider.class,
        description = "Watches and arbitrates one shared NVIDIA GPU.",
        subcommands = {RunCommand.class, AdmitCommand.class, ReleaseCommand.class, StatusCommand.class,
                CheckConfigCommand.class, HookCommand.class, VersionCommand.class, ResizeCommand.class})
public final class GpuAgentCommand implements Runnable {
    private final CliContext ctx;

    GpuAgentCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(ctx.err());
    }

    /**
     * Runs one command line and returns its exit code (usage errors: 2; unexpected failures: 1). A
     * well-formed {@code admit} takes a quick path without picocli ({@link QuickAdmit}).
     */
    public static int execute(String[] args, CliContext ctx) {
        java.util.OptionalInt quick = QuickAdmit.tryRun(args, ctx);
        if (quick.isPresent()) {
            return quick.getAsInt();
        }
        return executeWithPicocli(args, ctx);
    }

    /** The full command line, without the quick path for admit; tests compare the two. */
    public static int executeWithPicocli(String[] args, CliContext ctx) {
        CommandLine cl = new CommandLine(new GpuAgentCommand(ctx), new Factory(ctx));
        cl.setOut(new java.io.PrintWriter(ctx.out(), true));
        cl.setErr(new java.io.PrintWriter(ctx.err(), true));
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("gpu-agent: error: " + DaemonLog.describe(e));
            if (DaemonLog.debugEnabled()) {
                e.printStackTrace(commandLine.getErr());
            }
            return ExitCodes.FAILURE;
        });
        return cl.execute(args);
    }

    /** Makes commands with their {@link CliContext}. */
    private static final class Factory implements CommandLine.IFactory {
        private final CliContext ctx;

        Factory(CliContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(CliContext.class);
                c.setAccessible(true);
                return c.newInstance(ctx);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"gpu-agent " + Version.get()};
        }
    }
}
