package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The lease id high-water mark, kept in {@code <state-dir>/ledger.ids} apart from the journal:
 * the highest id that may have been handed out. It is written durably before a lease with a
 * higher id is stored (and so before it is acknowledged), in blocks of {@link #BLOCK} so that one
 * write covers many admissions. At start the next id is above it, so ids never repeat for the life
 * of the state directory, even when the journal is moved aside or replaced by an older copy: a
 * stale {@code release --lease N} cannot free someone else's lease. The price is a gap of up to
 * one block after each start.
 *
 * <p>Touched by one thread at a time (the opener, then the journal's sync thread).
 */
final class LeaseIdReservation {
    static final String FILE_NAME = "ledger.ids";
    static final long BLOCK = 1000;

    private final FileOpener files;
    private final Path file;
    private long reservedThrough;

    private LeaseIdReservation(FileOpener files, Path file, long reservedThrough) {
        this.files = files;
        this.file = file;
        this.reservedThrough = reservedThrough;
    }

    /** Reads the mark in {@code dir}; 0 when there is none (a new state directory). */
    static LeaseIdReservation read(FileOpener files, Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        try {
            return new LeaseIdReservation(files, file, DurableFile.readNumber(file, "the lease id high-water mark")
                    .orElse(0));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; without it lease ids cannot be kept unique. Write a number at"
                    + " least as large as the highest lease id this agent handed out into it (one line), or delete it"
                    + " to let old ids be handed out again", e);
        }
    }

    /** The highest id that may have been handed out. */
    long reservedThrough() {
        return reservedThrough;
    }

    /**
     * Makes sure ids up to {@code id} are reserved, writing the end of its block (a multiple of
     * {@link #BLOCK}, so that ids after a restart start at 1001, 2001, ...) durably when they are not.
     */
    void cover(long id) throws IOException {
        if (id > reservedThrough) {
            long through = (id + BLOCK - 1) / BLOCK * BLOCK;
            DurableFile.writeNumber(files, file, through);
            reservedThrough = through;
        }
    }
}
