package org.gpuagent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.stream.Collectors;
import org.gpuagent.scheduler.ByteSize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OllamaSectionTest {

    @Test
    void absentTheProxyIsOff() throws Exception {
        assertTrue(ConfigLoader.parse("", "empty.yaml").ollama().isEmpty());
    }

    @Test
    void readsEveryKeyWithDefaultsForTheOptionalOnes() throws Exception {
        AgentConfig.OllamaProxy p = ConfigLoader.parse("""
                ollama:
                  listen: 127.0.0.1:11435
                  upstream: http://127.0.0.1:11434
                """, "t.yaml").ollama().orElseThrow();
        assertEquals(new AgentConfig.OllamaProxy(new HostPort("127.0.0.1", 11435), URI.create("http://127.0.0.1:11434"),
                "ollama", 512 * ByteSize.MIB, Duration.ofSeconds(2), Duration.ofSeconds(30), 64 * ByteSize.MIB), p);

        AgentConfig.OllamaProxy q = ConfigLoader.parse("""
                ollama:
                  listen: "[::1]:11435"
                  upstream: https://ollama.lan:443/
                  service: ollama
                  min-model-bytes: 1GiB
                  ps-interval: 500ms
                  wait: 2m
                  max-body: 8MiB
                """, "t.yaml").ollama().orElseThrow();
        assertEquals(new AgentConfig.OllamaProxy(new HostPort("::1", 11435), URI.create("https://ollama.lan:443/"),
                "ollama", ByteSize.GIB, Duration.ofMillis(500), Duration.ofMinutes(2), 8 * ByteSize.MIB), q);
    }

    /** Each bad key is named with its path and line, as check-config prints it. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no listen|ollama:\\n  upstream: http://127.0.0.1:11434|1|ollama.listen|is required",
        "no upstream|ollama:\\n  listen: 127.0.0.1:11435|1|ollama.upstream|is required",
        "bad listen|ollama:\\n  listen: 11435\\n  upstream: http://x:1|2|ollama.listen|no port",
        "upstream not http|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: ftp://x|3|ollama.upstream|not an http(s) URL",
        "upstream with a query|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1/?a=b|3|ollama.upstream|not an http(s) URL",
        "upstream not a URL|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: 'http://x y'|3|ollama.upstream|not a URL",
        "unknown service|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  service: llama|4|ollama.service|not a configured service",
        "zero minimum|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  min-model-bytes: 0|4|ollama.min-model-bytes|must be positive",
        "bad minimum|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  min-model-bytes: lots|4|ollama.min-model-bytes|not a size",
        "poll too fast|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  ps-interval: 10ms|4|ollama.ps-interval|outside 100ms-5m",
        "wait too long|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  wait: 2h|4|ollama.wait|more than 1h",
        "body limit too large|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  max-body: 2GiB|4|ollama.max-body|outside 1KiB-1GiB",
        "same port as the API|ollama:\\n  listen: 127.0.0.1:9849\\n  upstream: http://x:1|2|ollama.listen|cannot share",
        "unknown key|ollama:\\n  listen: 127.0.0.1:11435\\n  upstream: http://x:1\\n  upstrem: http://y:1|4|ollama.upstrem|did you mean \"upstream\"",
    })
    void reportsPathAndLine(String name, String yaml, int line, String path, String fragment) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml.replace("\\n", "\n"), "bad.yaml"));
        String all = e.problems().stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
        assertTrue(e.problems().stream().anyMatch(p -> p.line() == line && p.path().equals(path)
                && p.message().contains(fragment)), () -> "wanted line " + line + " " + path + " ~ " + fragment
                + " in:\n" + all);
    }
}
