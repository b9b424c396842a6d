package org.gpuagent.nvml.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Outside things a test needs (a tool on the PATH, a file the build made). On a developer's
 * machine a missing prerequisite skips the test; under {@code CI=true} it fails it, because CI
 * installs everything and a skip there would hide a test that never ran.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    public static boolean inCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    /** Skips (or under CI fails) the calling test with {@code why} unless {@code present}. */
    public static void require(boolean present, String why) {
        if (present) {
            return;
        }
        if (inCi()) {
            fail("CI=true but a prerequisite is missing: " + why);
        }
        assumeTrue(false, "skipped: " + why);
    }

    /** The absolute path of {@code tool} on the PATH, or skip/fail. */
    public static Path requireTool(String tool) {
        Optional<Path> found = findOnPath(tool);
        require(found.isPresent(), tool + " is not on the PATH");
        return found.orElseThrow();
    }

    public static Optional<Path> findOnPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * The directory holding the fake libnvidia-ml the nvml-bindings test build compiled with gcc
     * ({@code GPU_AGENT_FAKE_NVML_DIR}, set by surefire). Skips/fails when it was not built.
     */
    public static Path requireFakeNvmlDir() {
        String dir = System.getenv("GPU_AGENT_FAKE_NVML_DIR");
        Path p = dir == null ? null : Path.of(dir);
        require(p != null && Files.isRegularFile(p.resolve("libnvidia-ml.so.1")),
                "the fake libnvidia-ml was not built (gcc missing?); expected it in " + dir);
        return p;
    }
}
