package org.gpuagent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.gpuagent.agent.notify.HeaderValue;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.notify.Severity;
import org.gpuagent.agent.notify.SinkConfig;
import org.gpuagent.agent.notify.SinkFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The notifications section: every key, the defaults, and each problem with its path and line. */
class NotificationsSectionTest {
    @TempDir
    Path dir;

    private Path secret(String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    private static AgentConfig.Notifications parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "n.yaml").notifications();
    }

    private static String problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "n.yaml"));
        return e.problems().stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
    }

    @Test
    void aWebhookFromBeforeFormatsIsAJsonSinkOfEveryEvent() throws Exception {
        AgentConfig.Notifications n = parse("""
                notifications:
                  webhooks:
                    - url: http://127.0.0.1:8080/hook
                      timeout: 3s
                """);
        SinkConfig s = n.sinks().get(0);
        assertEquals(SinkFormat.JSON, s.format());
        assertEquals(Optional.of(URI.create("http://127.0.0.1:8080/hook")), s.url());
        assertEquals(NotificationEvent.labels(), s.events());
        assertEquals(Severity.INFO, s.minSeverity());
        assertEquals(Duration.ofSeconds(3), s.timeout());
        assertEquals(Optional.empty(), n.instance());
    }

    @Test
    void everyKeyOfEveryFormat() throws Exception {
        Path amAuth = secret("am-auth", "Basic Z3B1OmFnZW50\n");
        Path gotify = secret("gotify", "AbCdEf.123\n");
        Path discord = secret("discord", "https://discord.com/api/webhooks/1/abc\n");
        AgentConfig.Notifications n = parse("""
                notifications:
                  instance: hwc-server:9848
                  webhooks:
                    - url: http://alertmanager:9093
                      format: alertmanager
                      min-severity: warning
                      resolve-after: 30m
                      headers:
                        X-Scope-OrgID: homelab
                        Authorization: {file: %s}
                    - url: https://ntfy.example/gpu
                      format: ntfy
                      events: [denied, preempted, gpu-lost, xid]
                    - url: https://gotify.example
                      format: gotify
                      min-severity: critical
                      headers:
                        X-Gotify-Key: {file: %s}
                    - url-file: %s
                      format: discord
                """.formatted(amAuth, gotify, discord));
        assertEquals(Optional.of("hwc-server:9848"), n.instance());
        SinkConfig am = n.sinks().get(0);
        assertEquals(SinkFormat.ALERTMANAGER, am.format());
        assertEquals(Severity.WARNING, am.minSeverity());
        assertEquals(Duration.ofMinutes(30), am.resolveAfter());
        assertEquals(Map.of("X-Scope-OrgID", new HeaderValue.Literal("homelab"),
                "Authorization", new HeaderValue.FromFile(amAuth)), am.headers());
        assertEquals(List.of("X-Scope-OrgID", "Authorization"), List.copyOf(am.headers().keySet()), "in file order");
        assertEquals(List.of("denied", "preempted", "gpu-lost", "xid"), n.sinks().get(1).events());
        assertEquals(Severity.CRITICAL, n.sinks().get(2).minSeverity());
        assertEquals(Optional.of(discord), n.sinks().get(3).urlFile());
        assertFalse(n.sinks().get(3).describe().contains("abc"), "logs never show a URL from a file");
    }

    @Test
    void aSecretInTheConfigurationIsRefusedWithWhereItIs() {
        String p = problems("""
                notifications:
                  webhooks:
                    - url: https://ntfy.example/gpu
                      format: ntfy
                      headers:
                        Authorization: Bearer tk_abcdef
                    - url: https://gotify.example/message?token=AbCdEf
                      format: gotify
                    - url: https://discord.com/api/webhooks/1/abc
                      format: discord
                    - url: https://user:pass@alertmanager.example
                      format: alertmanager
                """);
        assertTrue(p.contains("n.yaml:6: notifications.webhooks[0].headers.Authorization: Authorization carries a "
                + "secret: give it as {file: PATH}"), p);
        assertTrue(p.contains("n.yaml:7: notifications.webhooks[1].url: the token in the URL is a secret"), p);
        assertTrue(p.contains("notifications.webhooks[1].headers: a gotify sink needs its application token"), p);
        assertTrue(p.contains("n.yaml:9: notifications.webhooks[2].url: a Discord webhook URL carries its token"), p);
        assertTrue(p.contains("n.yaml:11: notifications.webhooks[3].url: credentials in the URL"), p);
        assertFalse(p.contains("tk_abcdef") || p.contains("AbCdEf"), "a problem does not repeat a secret value: " + p);
    }

    @Test
    void everyOtherMistakeNamesItsPathAndLine() throws Exception {
        Path twoLines = secret("two-lines", "first\nsecond\n");
        String p = problems("""
                notifications:
                  instance: ""
                  webhooks:
                    - url: http://127.0.0.1:9093
                      format: pagerduty
                      min-severity: urgent
                      events: [denied, exploded]
                      timeout: 0s
                    - url: http://127.0.0.1:8080
                      resolve-after: 1h
                      headers:
                        Host: evil.example
                        "bad name": x
                        X-Token: {file: relative/path}
                        X-Api-Key: {file: /nonexistent/gpu-agent-key}
                        X-Two: {file: %s}
                    - format: ntfy
                      url: https://ntfy.example/
                    - format: json
                """.formatted(twoLines));
        for (String expected : List.of(
                "n.yaml:2: notifications.instance: must not be empty",
                "n.yaml:5: notifications.webhooks[0].format: unknown format \"pagerduty\"; known: json, alertmanager, ntfy, gotify, discord",
                "n.yaml:6: notifications.webhooks[0].min-severity: \"urgent\" is none of info, warning, critical",
                "n.yaml:7: notifications.webhooks[0].events: unknown event \"exploded\"",
                "n.yaml:8: notifications.webhooks[0].timeout: must be more than 0",
                "n.yaml:10: notifications.webhooks[1].resolve-after: only an alertmanager sink resolves alerts",
                "n.yaml:12: notifications.webhooks[1].headers.Host: the agent sets Host itself",
                "n.yaml:13: notifications.webhooks[1].headers.bad name: \"bad name\" is not a header name",
                "n.yaml:14: notifications.webhooks[1].headers.X-Token.file: \"relative/path\" must be an absolute path",
                "n.yaml:15: notifications.webhooks[1].headers.X-Api-Key.file: no such file: /nonexistent/gpu-agent-key",
                "n.yaml:16: notifications.webhooks[1].headers.X-Two.file: " + twoLines + " holds more than one line",
                "n.yaml:18: notifications.webhooks[2].url: an ntfy URL names its topic",
                "n.yaml:19: notifications.webhooks[3]: no url (or url-file)")) {
            assertTrue(p.contains(expected), "missing: " + expected + "\nin:\n" + p);
        }
    }

    @Test
    void theContainerStoresAreAbsolutePaths() throws Exception {
        assertEquals(ConfigLoader.DEFAULT_CONTAINER_STORES, ConfigLoader.parse("", "e.yaml").exporter().containerStores());
        assertEquals(List.of(Path.of("/home/ollama/.local/share/containers/storage/overlay-containers")),
                ConfigLoader.parse("exporter:\n  container-stores: [/home/ollama/.local/share/containers/storage/"
                        + "overlay-containers]\n", "e.yaml").exporter().containerStores());
        String p = problems("exporter:\n  container-stores: [containers]\n");
        assertTrue(p.contains("n.yaml:2: exporter.container-stores: \"containers\" must be an absolute path"), p);
    }
}
