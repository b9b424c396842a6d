package org.gpuagent.scheduler;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The ledger journal could not store a change, so it was not acknowledged: an admission that is
 * rolled back, or a release that is not durable yet (the lease is no longer counted, but a
 * restart before the journal recovers would bring it back; asking again once the journal is
 * writable returns normally). Completes the futures of {@link AdmissionController}.
 */
public final class JournalUnavailableException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    public JournalUnavailableException(String message, IOException cause) {
        super(message, cause);
    }
}
