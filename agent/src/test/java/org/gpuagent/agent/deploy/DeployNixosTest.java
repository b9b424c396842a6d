package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NixOS side without nixpkgs (it cannot be fetched here): every .nix file parses with Debian's
 * nix-instantiate, and deploy/nixos/gpu-agent.nix, package.nix and flake.nix evaluate with the
 * stand-ins of deploy/nixos/tests/stand-ins.nix to the values a NixOS system would get: the
 * unit's sandbox from sandbox.json for the configured actuators (checked by the same rule as the
 * shipped unit, then by systemd-analyze verify and security), "+" on every ExecStartPre, the
 * agent's --config everywhere, Podman's hooks_dir, the containers' annotations, and the
 * Prometheus, Grafana and firewall options.
 */
class DeployNixosTest {
    static final String STORE = "/nix/store/00000000000000000000000000000000-";
    static final String EXE = STORE + "gpu-agent-0.1.0/bin/gpu-agent";

    @TempDir
    Path dir;

    /** Everything a rich configuration touches: two admitted units and containers, all options on. */
    static final String RICH = """
            {
              services.gpu-agent = {
                enable = true;
                settings = {
                  listen.metrics = "0.0.0.0:9950";
                  services.cams = { priority = "batch"; request = "1GiB"; match.containers = [ "cams" ];
                                    preemption = { action = "stop-container"; container = "cams"; }; };
                  services.frigate = { priority = "critical"; request = "1100MiB"; fail-mode = "open"; };
                  services.ollama = { priority = "opportunistic"; request = "2560MiB"; preemption = "ollama-unload"; };
                };
                admitUnits.ollama = { service = "ollama"; };
                admitUnits.immich-machine-learning = { service = "cams"; bytes = "1.5GiB"; wait = "30s"; };
                containers.frigate = { service = "frigate"; vram = "1.2GiB"; wait = "30s"; };
                containers.cams = { service = "cams"; };
                openFirewall = true;
                prometheus = { scrape = true; rules = true; };
                grafana = { dashboard = true; datasource = "prom-main"; };
              };
              virtualisation.podman.enable = true;
            }""";

    Object eval(String defs, String output) throws Exception {
        Path root = DeployTree.root();
        String expr = "let s = import " + root.resolve("deploy/nixos/tests/stand-ins.nix") + ";\n"
                + "    e = s.evalModule (import " + root.resolve("deploy/nixos/gpu-agent.nix") + ") " + defs + ";\n"
                + "    r = e.result;\nin " + output + "\n";
        return evalExpression(expr);
    }

    Object evalExpression(String expr) throws Exception {
        Path nix = Prerequisites.requireTool("nix-instantiate");
        Path file = Files.createTempFile(dir, "eval", ".nix");
        Files.writeString(file, expr);
        Nix r = run(nix.toString(), "--readonly-mode", "--eval", "--strict", "--json", file.toString());
        if (r.exit != 0) {
            throw new AssertionError("nix-instantiate failed: " + r.err + "\n" + expr);
        }
        return JSON.std.anyFrom(r.out);
    }

    record Nix(int exit, String out, String err) {
    }

    static Nix run(String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // Debian's nix-bin names a build-users group this host need not have: nothing is built here.
        pb.environment().put("NIX_CONFIG", "build-users-group =");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Nix(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void everyNixFileParses() throws Exception {
        Path nix = Prerequisites.requireTool("nix-instantiate");
        List<Path> files;
        try (Stream<Path> s = Files.walk(DeployTree.root().resolve("deploy"))) {
            files = new ArrayList<>(s.filter(p -> p.toString().endsWith(".nix")).toList());
        }
        files.add(DeployTree.root().resolve("flake.nix"));
        assertTrue(files.size() >= 4, files.toString());
        for (Path f : files) {
            Nix r = run(nix.toString(), "--parse", f.toString());
            assertEquals(0, r.exit, f + ": " + r.err);
        }
    }

    @Test
    void theModuleRendersUnitsHooksAnnotationsAndTheMonitoringOptions() throws Exception {
        Map<String, Object> r = map(eval(RICH, "{ inherit (r) systemd environment virtualisation networking services; "
                + "dashboard = (builtins.head r.services.grafana.provision.dashboards.settings.providers).options.path.text; }"));
        Map<String, Object> units = map(map(r.get("systemd")).get("services"));
        String configArg = "--config " + STORE + "gpu-agent.yaml";

        Map<String, Object> agent = map(map(units.get("gpu-agent")).get("serviceConfig"));
        assertEquals(EXE + " run --backend nvml --state-dir /var/lib/gpu-agent " + configArg, agent.get("ExecStart"));
        SandboxList list = SandboxList.load();
        assertEquals(list.effective(Set.of("none", "stop-container", "ollama-unload")), effective(agent),
                "the sandbox for the configured actions, by the rule the shipped unit is checked with");
        list.serviceLines().forEach((key, lines) -> assertEquals(lines, lines(agent.get(key)), key));

        for (String unit : List.of("ollama", "immich-machine-learning")) {
            Map<String, Object> sc = map(map(units.get(unit)).get("serviceConfig"));
            String pre = (String) list(sc.get("ExecStartPre")).get(0);
            assertTrue(pre.startsWith("+" + EXE + " admit --service "), pre);
            assertTrue(pre.contains("--holder systemd:" + unit + ".service") && pre.endsWith(configArg), pre);
            String post = (String) list(sc.get("ExecStopPost")).get(0);
            assertEquals("-+" + EXE + " release --holder systemd:" + unit + ".service " + configArg, post);
        }
        assertTrue(((String) list(map(map(units.get("immich-machine-learning")).get("serviceConfig"))
                .get("ExecStartPre")).get(0)).contains("--wait 30s --bytes 1.5GiB"));

        Map<String, Object> etc = map(map(r.get("environment")).get("etc"));
        for (String stage : List.of("prestart", "poststop")) {
            String name = "containers/oci/hooks.d/gpu-agent-hook" + (stage.equals("poststop") ? "-poststop" : "") + ".json";
            Map<String, Object> hook = JSON.std.mapFrom((String) map(etc.get(name)).get("text"));
            assertEquals(List.of("prestart".equals(stage) ? "prestart" : "poststop"), hook.get("stages"));
            Map<String, Object> h = map(hook.get("hook"));
            assertEquals(EXE, h.get("path"));
            assertEquals(List.of("gpu-agent", "hook", "oci", stage, "--config", STORE + "gpu-agent.yaml"), h.get("args"));
        }
        Map<String, Object> virt = map(r.get("virtualisation"));
        assertEquals(List.of("/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"),
                map(map(map(map(virt.get("containers")).get("containersConf")).get("settings")).get("engine")).get("hooks_dir"),
                "Podman's default stays in the list, and the module's directory is added");
        Map<String, Object> oci = map(map(virt.get("oci-containers")).get("containers"));
        assertEquals(List.of("--annotation=gpu-agent.service=frigate", "--annotation=gpu-agent.vram=1.2GiB",
                "--annotation=gpu-agent.wait=30s"), map(oci.get("frigate")).get("extraOptions"));
        assertEquals(List.of("--annotation=gpu-agent.service=cams"), map(oci.get("cams")).get("extraOptions"));
        assertFalse(units.containsKey("podman-frigate"), "a container is admitted by its hook, not by its unit");

        assertEquals(List.of(9950), map(map(r.get("networking")).get("firewall")).get("allowedTCPPorts"),
                "the configured metrics port, not 9848");
        Map<String, Object> prometheus = map(map(r.get("services")).get("prometheus"));
        Map<String, Object> job = map(list(prometheus.get("scrapeConfigs")).get(0));
        assertEquals("gpu-agent", job.get("job_name"));
        assertEquals(List.of("127.0.0.1:9950"), map(list(job.get("static_configs")).get(0)).get("targets"));
        String rules = (String) list(prometheus.get("ruleFiles")).get(0);
        assertTrue(rules.startsWith("/nix/store/") && rules.endsWith("-gpu-agent.rules.yml"), rules);
        Map<String, Object> shipped = JSON.std.mapFrom(Files.readString(DeployTree.deploy("grafana",
                "gpu-agent-dashboard.json")));
        Map<String, Object> provisioned = JSON.std.mapFrom((String) r.get("dashboard"));
        assertEquals(shipped.get("panels"), provisioned.get("panels"), "the panels as shipped");
        Map<String, Object> datasource = map(list(map(provisioned.get("templating")).get("list")).get(0));
        assertEquals("datasource", datasource.get("name"));
        assertEquals(Map.of("selected", true, "text", "prom-main", "value", "prom-main"), datasource.get("current"),
                "the configured data source is the variable's current value");
    }

    @Test
    void byDefaultTheBuiltInConfigurationAndItsActuators() throws Exception {
        Map<String, Object> r = map(eval("{ services.gpu-agent.enable = true; }",
                "{ inherit (r) systemd environment; hasHooks = r ? virtualisation; "
                        + "firewall = r ? networking; package = r.environment.systemPackages; }"));
        Map<String, Object> agent = map(map(map(map(r.get("systemd")).get("services")).get("gpu-agent")).get("serviceConfig"));
        assertEquals(EXE + " run --backend nvml --state-dir /var/lib/gpu-agent", agent.get("ExecStart"),
                "no --config: the built-in configuration");
        SandboxList list = SandboxList.load();
        assertEquals(list.effective(Set.of("none", "ollama-unload", "restart-unit")), effective(agent));
        assertEquals("CAP_SYS_ADMIN", agent.get("CapabilityBoundingSet"));
        assertEquals("yes", agent.get("RestrictNamespaces"));
        assertFalse(agent.containsKey("ReadWritePaths"));
        assertEquals(Boolean.FALSE, r.get("hasHooks"), "no containers: no hooks");
        assertEquals(Boolean.FALSE, r.get("firewall"));
        assertEquals(List.of(STORE + "gpu-agent-0.1.0"), r.get("package"), "package.nix by default");
    }

    @Test
    void oneContainerAdmittedTwiceIsRefused() throws Exception {
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> eval(
                "{ services.gpu-agent = { enable = true; containers.frigate.service = \"frigate\"; "
                        + "admitUnits.podman-frigate.service = \"frigate\"; }; }", "r.systemd"));
        assertTrue(e.getMessage().contains("two leases for one container"), e.getMessage());
        AssertionError typo = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> eval(
                "{ services.gpu-agent = { enable = true; actuators = [ \"stop-everything\" ]; }; }", "r.systemd"));
        assertTrue(typo.getMessage().contains("not a valid enum"), typo.getMessage());
    }

    /** The unit text the module renders, through systemd-analyze as the shipped unit goes. */
    @Test
    void theRenderedUnitPassesVerifyAndIsExposedAtMost3() throws Exception {
        for (String defs : List.of(RICH, "{ services.gpu-agent.enable = true; }")) {
            Map<String, Object> units = map(eval(defs, "r.systemd.services"));
            Path root = SystemdAnalyze.root(Files.createTempDirectory(dir, "root"));
            SystemdAnalyze.program(root, EXE);
            Path unit = SystemdAnalyze.install(root, "/etc/systemd/system/gpu-agent.service",
                    nixosUnitText(map(units.get("gpu-agent"))));
            List<String> names = new ArrayList<>(List.of("gpu-agent.service"));
            if (units.containsKey("ollama")) {
                SystemdAnalyze.program(root, "/usr/bin/ollama");
                SystemdAnalyze.install(root, "/etc/systemd/system/ollama.service",
                        "[Unit]\nDescription=Ollama\n[Service]\nExecStart=/usr/bin/ollama serve\n");
                SystemdAnalyze.install(root, "/etc/systemd/system/ollama.service.d/overrides.conf",
                        nixosUnitText(map(units.get("ollama"))));
                names.add("ollama.service");
            }
            SystemdAnalyze.Result r = SystemdAnalyze.verify(root, names.toArray(String[]::new));
            assertEquals(0, r.exit(), r.output());
            assertEquals("", r.output().strip(), "verify found something in:\n" + Files.readString(unit));
            double exposure = SystemdAnalyze.exposure(unit);
            assertTrue(exposure <= UnitSandboxTest.MAX_EXPOSURE, exposure + " for\n" + Files.readString(unit));
        }
    }

    @Test
    void thePackageWrapsTheLauncherWithAHeadlessJre() throws Exception {
        Path root = DeployTree.root();
        Map<String, Object> p = map(evalExpression("let s = import " + root.resolve("deploy/nixos/tests/stand-ins.nix")
                + "; d = s.pkgs.callPackage " + root.resolve("deploy/nixos/package.nix") + " { }; in "
                + "{ inherit (d) name mvnHash mvnParameters installPhase doCheck; "
                + "kept = map (p: d.src.filter p \"directory\") [ \"/x/agent\" \"/x/agent/target\" ]; }"));
        assertEquals("gpu-agent-0.1.0", p.get("name"));
        assertEquals("sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", p.get("mvnHash"),
                "lib.fakeHash until the owner fills it in (docs/deploy-nixos.md)");
        assertTrue(((String) p.get("mvnParameters")).contains("-pl agent -am"));
        String install = (String) p.get("installPhase");
        assertTrue(install.contains("makeWrapper $out/share/gpu-agent/gpu-agent $out/bin/gpu-agent")
                && install.contains("--set JAVA_HOME " + STORE + "openjdk-headless-21"), install);
        assertTrue(install.contains("agent/target/gpu-agent.jar $out/share/gpu-agent/gpu-agent.jar"), install);
        assertEquals(List.of(true, false), p.get("kept"), "target/ is left out of the source");
    }

    @Test
    void theFlakeExposesThePackageAndTheModule() throws Exception {
        Path root = DeployTree.root();
        Map<String, Object> f = map(evalExpression("let s = import " + root.resolve("deploy/nixos/tests/stand-ins.nix")
                + "; flake = import " + root.resolve("flake.nix") + "; "
                + "nixpkgs = { lib = s.lib; legacyPackages = s.pkgs.legacyPackages; }; "
                + "self = flake.outputs { inherit self nixpkgs; }; in { "
                + "package = self.packages.x86_64-linux.default.name; "
                + "same = self.packages.x86_64-linux.default == self.packages.x86_64-linux.gpu-agent; "
                + "module = toString self.nixosModules.default; "
                + "unit = (s.evalModule (import self.nixosModules.default) { services.gpu-agent.enable = true; })"
                + ".result.systemd.services.gpu-agent.serviceConfig.ExecStart; "
                + "overlay = (self.overlays.default s.pkgs s.pkgs).gpu-agent.name; }"));
        assertEquals("gpu-agent-0.1.0", f.get("package"));
        assertEquals(Boolean.TRUE, f.get("same"));
        assertEquals(root.resolve("deploy/nixos/gpu-agent.nix").toString(), f.get("module"));
        assertTrue(((String) f.get("unit")).startsWith(EXE + " run "), f.toString());
        assertEquals("gpu-agent-0.1.0", f.get("overlay"));
    }

    /** The module's sandbox directives, merged as systemd reads them. */
    static SandboxList.Effective effective(Map<String, Object> serviceConfig) {
        Map<String, Map<String, List<String>>> s = UnitFile.sections();
        Map<String, List<String>> service = new LinkedHashMap<>();
        serviceConfig.forEach((k, v) -> service.put(k, lines(v)));
        s.put("Service", service);
        return SandboxList.of(UnitFile.parse(UnitFile.render(s)));
    }

    /** The unit file NixOS writes for {@code systemd.services.NAME} (the parts the module sets). */
    static String nixosUnitText(Map<String, Object> unit) {
        Map<String, Map<String, List<String>>> s = UnitFile.sections();
        Map<String, List<String>> u = new LinkedHashMap<>();
        if (unit.get("description") != null) {
            u.put("Description", List.of((String) unit.get("description")));
        }
        for (String dep : List.of("after", "wants")) {
            if (unit.get(dep) != null) {
                u.put(Character.toUpperCase(dep.charAt(0)) + dep.substring(1), List.of(String.join(" ", strings(unit.get(dep)))));
            }
        }
        s.put("Unit", u);
        Map<String, List<String>> service = new LinkedHashMap<>();
        List<String> env = new ArrayList<>();
        if (unit.get("environment") != null) {
            map(unit.get("environment")).forEach((k, v) -> env.add("\"" + k + "=" + v + "\""));
        }
        if (unit.get("path") != null) {
            Set<String> dirs = new LinkedHashSet<>();
            for (String p : strings(unit.get("path"))) {
                dirs.add(p + "/bin");
                dirs.add(p + "/sbin");
            }
            env.add("\"PATH=" + String.join(":", dirs) + "\"");
        }
        if (!env.isEmpty()) {
            service.put("Environment", env);
        }
        map(unit.get("serviceConfig")).forEach((k, v) -> service.put(k, lines(v)));
        s.put("Service", service);
        if (unit.get("wantedBy") != null) {
            s.put("Install", Map.of("WantedBy", List.of(String.join(" ", strings(unit.get("wantedBy"))))));
        }
        return UnitFile.render(s);
    }

    static List<String> lines(Object v) {
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            return l.stream().map(String::valueOf).toList();
        }
        return List.of(String.valueOf(v));
    }

    static List<String> strings(Object v) {
        return lines(v);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertNotEquals(null, o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    /** ollamaProxy.enable writes settings.ollama, so the agent gets a configuration file checked at build time. */
    @Test
    void theOllamaProxyOptionConfiguresTheAgent() throws Exception {
        Map<String, Object> r = map(eval("{ services.gpu-agent = { enable = true; ollamaProxy.enable = true; }; }",
                "{ exec = r.systemd.services.gpu-agent.serviceConfig.ExecStart; checks = r.system.checks; }"));
        assertEquals(EXE + " run --backend nvml --state-dir /var/lib/gpu-agent --config " + STORE + "gpu-agent.yaml",
                r.get("exec"));
        assertEquals(List.of(STORE + "gpu-agent-check-config"), r.get("checks"));
        Map<String, Object> off = map(eval("{ services.gpu-agent = { enable = true; ollamaProxy.upstream = "
                + "\"http://10.0.0.2:11434\"; }; }", "{ exec = r.systemd.services.gpu-agent.serviceConfig.ExecStart; }"));
        assertEquals(EXE + " run --backend nvml --state-dir /var/lib/gpu-agent", off.get("exec"), "off unless enabled");
    }
}
