package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerStateTest {
    @TempDir
    Path dir;

    private static HookCommand.ContainerState read(String json) throws IOException {
        return HookCommand.ContainerState.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void annotationsInTheStateWinOverTheBundle() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"annotations\":{\"gpu-agent.service\":\"immich\"}}");
        HookCommand.ContainerState s = read("{\"id\":\"x\",\"pid\":42,\"bundle\":\"" + dir
                + "\",\"annotations\":{\"gpu-agent.service\":\"frigate\"}}");
        assertEquals("x", s.id());
        assertEquals(42, s.pid());
        assertEquals(Optional.of("frigate"), s.annotation("gpu-agent.service"));
    }

    @Test
    void withoutAnnotationsTheBundlesConfigIsRead() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"annotations\":{\"gpu-agent.service\":\"immich\","
                + "\"gpu-agent.vram\":\"1GiB\"}}");
        HookCommand.ContainerState s = read("{\"id\":\"y\",\"bundle\":\"" + dir + "\"}");
        assertEquals(Optional.of("immich"), s.annotation("gpu-agent.service"));
        assertEquals(Optional.of("1GiB"), s.annotation("gpu-agent.vram"));
        assertEquals(0, s.pid());
    }

    @Test
    void noAnnotationsAnywhereIsUnmanaged() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"process\":{}}");
        assertEquals(Optional.empty(), read("{\"id\":\"z\",\"bundle\":\"" + dir + "\"}").annotation("gpu-agent.service"));
        assertEquals(Optional.empty(), read("{\"id\":\"z\"}").annotation("gpu-agent.service"));
    }

    @Test
    void brokenStatesAreErrors() {
        assertThrows(IOException.class, () -> read("{\"pid\":1}"));
        assertThrows(IOException.class, () -> read("[1,2]"));
        assertThrows(IOException.class, () -> read("{\"id\":\"a\",\"bundle\":\"" + dir.resolve("missing") + "\"}"));
    }
}
