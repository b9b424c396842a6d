package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.ServiceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/systemd against the one sandbox list (deploy/systemd/sandbox.json) and Debian's
 * systemd-analyze: the shipped unit carries exactly the list's directives for the built-in
 * configuration's actuators, the stop-container drop-in exactly what that actuator adds, both
 * pass {@code verify}, and neither is more exposed than {@value #MAX_EXPOSURE} in
 * {@code security --offline}. The NixOS module's unit is checked the same way in DeployNixosTest.
 */
class UnitSandboxTest {
    static final double MAX_EXPOSURE = 3.0;
    static final String CONFIG = "/etc/gpu-agent/config.yaml";
    static final String DROP_IN = "gpu-agent.service.d/stop-container.conf";
    /** [Service] keys a unit carries besides the list's: what it runs, not how it is confined. */
    static final Set<String> NOT_SANDBOX = Set.of("ExecStart", "Environment");
    static final Set<String> COMPUTED = Set.of("CapabilityBoundingSet", "ReadWritePaths", "SystemCallFilter",
            "RestrictNamespaces");

    @TempDir
    Path dir;

    static UnitFile unit(String... path) throws IOException {
        return UnitFile.parse(Files.readString(DeployTree.deploy("systemd", path)));
    }

    @Test
    void theShippedUnitIsTheSandboxListForItsActuators() throws Exception {
        SandboxList list = SandboxList.load();
        UnitFile unit = unit("gpu-agent.service");
        list.serviceLines().forEach((key, lines) -> assertEquals(lines, unit.values("Service", key), key));
        assertEquals(list.effective(list.shipped("unit")), SandboxList.of(unit));
        Set<String> known = new HashSet<>(list.serviceLines().keySet());
        known.addAll(COMPUTED);
        known.addAll(NOT_SANDBOX);
        for (UnitFile.Line l : unit.lines()) {
            if (l.section().equals("Service")) {
                assertTrue(known.contains(l.key()), l.key() + " is in the unit but not in " + SandboxList.file());
            }
        }
        assertEquals(List.of("SIGTERM"), unit.values("Service", "KillSignal"));
        assertEquals(List.of("30"), unit.values("Service", "TimeoutStopSec"), "a stop timeout");
        assertEquals(List.of("@system-service"), unit.values("Service", "SystemCallFilter"));
    }

    @Test
    void theStopContainerDropInAddsExactlyWhatItsActuatorNeeds() throws Exception {
        SandboxList list = SandboxList.load();
        UnitFile dropIn = unit("gpu-agent.service.d", "stop-container.conf");
        for (UnitFile.Line l : dropIn.lines()) {
            assertTrue(COMPUTED.contains(l.key()), "the drop-in only adds to the computed directives: " + l);
        }
        Set<String> both = new LinkedHashSet<>(list.shipped("unit"));
        both.addAll(list.shipped(DROP_IN));
        SandboxList.Effective merged = SandboxList.of(unit("gpu-agent.service").with(dropIn));
        assertEquals(list.effective(both), merged);
        assertTrue(merged.capabilities().containsAll(Set.of("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_KILL")), merged.toString());
        assertEquals(Set.of("net"), merged.namespaces());
    }

    /**
     * The shipped unit works with the built-in configuration (its actions are in the unit's set),
     * and every action the agent knows has an entry, so the module can allow any of them.
     */
    @Test
    void everyActuatorHasAnEntryAndTheBuiltInOnesAreShipped() throws Exception {
        SandboxList list = SandboxList.load();
        Set<String> builtIn = new HashSet<>();
        for (ServiceConfig s : ConfigLoader.builtInDefault().services()) {
            builtIn.add(s.preemption().action().label());
        }
        assertTrue(list.shipped("unit").containsAll(builtIn), builtIn + " not all in " + list.shipped("unit"));
        Set<String> all = new HashSet<>();
        for (ServiceConfig.Preemption.Action a : ServiceConfig.Preemption.Action.values()) {
            all.add(a.label());
        }
        assertEquals(all, list.actuatorNames());
    }

    @Test
    void systemdAnalyzeVerifyAcceptsTheUnitAndTheDropIns() throws Exception {
        Path root = SystemdAnalyze.root(dir.resolve("root"));
        SystemdAnalyze.install(root, "/etc/systemd/system/gpu-agent.service",
                Files.readString(DeployTree.deploy("systemd", "gpu-agent.service")));
        SystemdAnalyze.install(root, "/etc/systemd/system/" + DROP_IN,
                Files.readString(DeployTree.deploy("systemd", "gpu-agent.service.d", "stop-container.conf")));
        SystemdAnalyze.install(root, "/etc/systemd/system/ollama.service",
                "[Unit]\nDescription=Ollama\n[Service]\nExecStart=/usr/bin/ollama serve\n");
        Path ollamaDropIn = SystemdAnalyze.install(root, "/etc/systemd/system/ollama.service.d/gpu-agent.conf",
                Files.readString(DeployTree.deploy("systemd", "ollama.service.d", "gpu-agent.conf")));
        SystemdAnalyze.program(root, "/usr/local/bin/gpu-agent");
        SystemdAnalyze.program(root, "/usr/bin/ollama");

        SystemdAnalyze.Result r = SystemdAnalyze.verify(root, "gpu-agent.service", "ollama.service");
        assertEquals(0, r.exit(), r.output());
        assertEquals("", r.output().strip(), "verify found something");

        // and it would say so: a prefix systemd does not know
        Files.writeString(ollamaDropIn, Files.readString(ollamaDropIn).replace("ExecStartPre=+", "ExecStartPre=%"));
        SystemdAnalyze.Result broken = SystemdAnalyze.verify(root, "ollama.service");
        assertNotEquals("", broken.output().strip(), broken.toString());
    }

    @Test
    void theUnitIsExposedAtMost3AloneAndWithTheDropIn() throws Exception {
        Path alone = Files.createDirectories(dir.resolve("alone"));
        Files.copy(DeployTree.deploy("systemd", "gpu-agent.service"), alone.resolve("gpu-agent.service"));
        double unitAlone = SystemdAnalyze.exposure(alone.resolve("gpu-agent.service"));
        Path withDropIn = Files.createDirectories(dir.resolve("with/gpu-agent.service.d"));
        Files.copy(DeployTree.deploy("systemd", "gpu-agent.service"), withDropIn.getParent().resolve("gpu-agent.service"));
        Files.copy(DeployTree.deploy("systemd", "gpu-agent.service.d", "stop-container.conf"),
                withDropIn.resolve("stop-container.conf"));
        double both = SystemdAnalyze.exposure(withDropIn.getParent().resolve("gpu-agent.service"));
        assertTrue(unitAlone <= MAX_EXPOSURE, "the unit: " + unitAlone);
        assertTrue(both <= MAX_EXPOSURE, "the unit with the stop-container drop-in: " + both);
        assertTrue(both > unitAlone, "the drop-in is read: " + unitAlone + " vs " + both);
    }

    /**
     * Every command line the project writes for another unit or for Podman runs outside that
     * unit's sandbox ("+") and passes the agent's configuration, the same file the agent runs with.
     */
    @Test
    void everyClientRunsOutsideTheSandboxWithTheAgentsConfiguration() throws Exception {
        assertTrue(unit("gpu-agent.service").values("Service", "ExecStart").get(0).endsWith("--config " + CONFIG));
        UnitFile ollama = unit("ollama.service.d", "gpu-agent.conf");
        for (String pre : ollama.values("Service", "ExecStartPre")) {
            assertTrue(pre.startsWith("+/usr/local/bin/gpu-agent admit ") && pre.endsWith("--config " + CONFIG), pre);
        }
        for (String post : ollama.values("Service", "ExecStopPost")) {
            assertTrue(post.startsWith("-+/usr/local/bin/gpu-agent release ") && post.endsWith("--config " + CONFIG), post);
        }
        for (String hook : List.of("gpu-agent-hook.json", "gpu-agent-hook-poststop.json")) {
            Map<String, Object> h = JSON.std.mapFrom(Files.readString(DeployTree.deploy("oci", hook)));
            @SuppressWarnings("unchecked")
            List<String> args = (List<String>) ((Map<String, Object>) h.get("hook")).get("args");
            assertEquals(List.of("--config", CONFIG), args.subList(args.size() - 2, args.size()), hook);
        }
        // the documentation's examples too
        List<Path> docs = MarkdownLinks.files(DeployTree.root());
        int seen = 0;
        for (Path doc : docs) {
            for (String line : Files.readAllLines(doc)) {
                String l = line.strip();
                if ((l.startsWith("ExecStartPre=") || l.startsWith("ExecStopPost=")) && l.contains("gpu-agent ")) {
                    seen++;
                    assertTrue(l.startsWith("ExecStartPre=+/") || l.startsWith("ExecStopPost=-+/"), doc + ": " + l);
                    assertTrue(l.contains(" --config "), doc + ": " + l);
                }
            }
        }
        assertTrue(seen >= 2, "the guides show the drop-in: " + seen);
    }
}
