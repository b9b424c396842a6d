package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The journal is damaged in a way that could hide acknowledged leases (see {@link JournalReplay}
 * for what counts). The file is left as it is; the message names the byte offset and the command
 * that moves it aside, for an operator who accepts starting with an empty ledger.
 */
public final class JournalCorruptedException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final long offset;

    public JournalCorruptedException(String message, Path file, long offset) {
        super(message);
        this.file = file;
        this.offset = offset;
    }

    /** The damaged journal, where it still is. */
    public Path file() {
        return file;
    }

    /** Where the damage starts, in bytes from the start of the file. */
    public long offset() {
        return offset;
    }
}
