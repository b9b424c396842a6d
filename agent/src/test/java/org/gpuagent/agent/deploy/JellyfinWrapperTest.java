package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/jellyfin/gpu-agent-ffmpeg, run by /bin/sh with a recording gpu-agent and ffmpeg in place of the real ones. */
class JellyfinWrapperTest {
    @TempDir
    Path dir;
    private Path agent;
    private Path ffmpeg;
    private Path calls;

    @BeforeEach
    void fakes() throws Exception {
        calls = dir.resolve("calls");
        agent = fake("gpu-agent", 3);
        ffmpeg = fake("ffmpeg", 0);
    }

    /** A program that appends its name and each argument (one per line) to {@code calls}, then exits {@code status}. */
    private Path fake(String name, int status) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n{ echo '" + name + "'; for a in \"$@\"; do echo \"$a\"; done; } >> '" + calls
                + "'\nexit " + status + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private int run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", DeployTree.deploy("jellyfin", "gpu-agent-ffmpeg")
                .toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("GPU_AGENT_FFMPEG", ffmpeg.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    private List<String> calls() throws Exception {
        return Files.readAllLines(calls, StandardCharsets.UTF_8);
    }

    @Test
    void aTranscodeGoesThroughGpuAgentExecWithItsArgumentsIntactAndItsExitStatus() throws Exception {
        int status = run(Map.of("GPU_AGENT", agent.toString()), "-hwaccel", "cuda", "-i", "file:/media/A Film (2019).mkv",
                "-vf", "scale_cuda=w=1920:h=1080", "/cache/x.m3u8");
        assertEquals(3, status, "a denial's exit status reaches Jellyfin");
        assertEquals(List.of("gpu-agent", "exec", "--service", "jellyfin", "--bytes", "auto", "--wait", "10s", "--",
                ffmpeg.toString(), "-hwaccel", "cuda", "-i", "file:/media/A Film (2019).mkv", "-vf",
                "scale_cuda=w=1920:h=1080", "/cache/x.m3u8"), calls());
    }

    @Test
    void theWaitAndServiceAreSettings() throws Exception {
        run(Map.of("GPU_AGENT", agent.toString(), "GPU_AGENT_WAIT", "30s", "GPU_AGENT_SERVICE", "jellyfin-4k"), "-i",
                "in.mkv", "out.m3u8");
        assertEquals(List.of("gpu-agent", "exec", "--service", "jellyfin-4k", "--bytes", "auto", "--wait", "30s", "--",
                ffmpeg.toString(), "-i", "in.mkv", "out.m3u8"), calls());
    }

    @Test
    void probesAtStartUpNeverWaitForTheAgent() throws Exception {
        assertEquals(0, run(Map.of("GPU_AGENT", agent.toString()), "-version"));
        assertEquals(List.of("ffmpeg", "-version"), calls());
    }

    @Test
    void withoutGpuAgentInstalledItIsPlainFfmpeg() throws Exception {
        assertEquals(0, run(Map.of("GPU_AGENT", dir.resolve("not-installed").toString()), "-i", "in.mkv", "out.m3u8"));
        assertEquals(List.of("ffmpeg", "-i", "in.mkv", "out.m3u8"), calls());
    }
}
