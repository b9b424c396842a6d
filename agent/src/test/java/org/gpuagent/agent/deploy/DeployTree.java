package org.gpuagent.agent.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's deploy/ tree, found upwards from the working directory (a module directory under Maven). */
final class DeployTree {
    private DeployTree() {
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("deploy").resolve("systemd"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new AssertionError("no deploy/systemd above " + Path.of("").toAbsolutePath());
    }

    static Path deploy(String first, String... more) {
        return root().resolve("deploy").resolve(Path.of(first, more));
    }
}
