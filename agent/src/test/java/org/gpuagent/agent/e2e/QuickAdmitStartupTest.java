package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A successful {@code gpu-agent admit} links no string concatenation: in a fresh JVM the first
 * {@code +} on strings bootstraps {@code StringConcatFactory}, about 15 ms of a 70 ms admission on
 * the development machine (docs/benchmarks-and-capacity.md, "gpu-agent admit without
 * -XDstringConcat=inline"). The JVM's own trace of call
 * site linkage ({@code java.lang.invoke.MethodHandle.TRACE_METHOD_LINKAGE}) names every
 * invokedynamic site it links and the class holding it.
 */
class QuickAdmitStartupTest extends SimulatedDaemonTest {
    private static final String TRACE = "-Djava.lang.invoke.MethodHandle.TRACE_METHOD_LINKAGE=true";

    @Test
    void anAdmissionLinksNoStringConcatenationOfOurs() throws Exception {
        List<String> cmd = new ArrayList<>(DaemonProcess.javaCommand(List.of("admit", "--service", "immich",
                "--bytes", "64MiB", "--holder", "startup-probe", "--api", "127.0.0.1:" + daemon.apiPort,
                "--state-dir", daemon.stateDir.toString())));
        cmd.add(1, TRACE);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("GPU_AGENT_API");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);

        List<String> linked = out.lines().filter(l -> l.startsWith("linkCallSite org.gpuagent.")).toList();
        assertTrue(out.lines().anyMatch(l -> l.matches("\\d+")), "no lease id printed:\n" + out);
        // The trace works: the admission links at least one site of ours (a lambda), and none of
        // them is a string concatenation.
        assertTrue(!linked.isEmpty(), "no call site of ours traced; has the property changed?\n" + out);
        List<String> concatenations = linked.stream().filter(l -> l.contains("StringConcatFactory")).toList();
        assertEquals(List.of(), concatenations, "string concatenations linked on the admit path");
    }
}
