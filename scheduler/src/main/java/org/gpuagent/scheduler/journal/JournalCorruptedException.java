package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The journal could not be trusted (a bad checksum with records after it, garbage, a lease
 * granted twice). The file has already been moved aside, never deleted, and the message says
 * where and what to do.
 */
public final class JournalCorruptedException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path movedTo;

    public JournalCorruptedException(String message, Path movedTo) {
        super(message);
        this.movedTo = movedTo;
    }

    /** Where the corrupt file now is. */
    public Path movedTo() {
        return movedTo;
    }
}
