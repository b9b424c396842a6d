package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

/**
 * Opens every file the journal writes or syncs (the journal, its snapshots, the id high-water
 * mark, the clean-close mark, the state directory for its fsync). {@code FileChannel::open} in
 * production; tests pass channels that fail the way a full or broken disk does.
 */
@FunctionalInterface
public interface FileOpener {
    FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes) throws IOException;
}
