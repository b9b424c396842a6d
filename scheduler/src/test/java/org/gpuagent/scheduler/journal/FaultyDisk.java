package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A disk that fails the way real ones do, for the journal's exact edges: it fills up (a write
 * that does not fit writes what fits, and the next one fails with "No space left on device", as
 * write(2) does), a sync fails with an I/O error, or writes to one file fail. Real files
 * underneath, so what reached them can be reopened.
 */
public final class FaultyDisk implements FileOpener {
    public static final String NO_SPACE = "No space left on device";
    public static final String IO_ERROR = "Input/output error";

    private final AtomicLong spaceLeft = new AtomicLong(Long.MAX_VALUE);
    private final AtomicReference<String> failingFile = new AtomicReference<>();
    private volatile boolean syncFails;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();
    private final List<String> events = new ArrayList<>();

    /** From now on, {@code bytes} more bytes fit (0: full). */
    public void spaceLeft(long bytes) {
        spaceLeft.set(bytes);
    }

    /** Space is back. */
    public void free() {
        spaceLeft.set(Long.MAX_VALUE);
        failingFile.set(null);
        syncFails = false;
    }

    public void syncFails(boolean fails) {
        syncFails = fails;
    }

    /** Writes to files whose name starts with {@code prefix} fail (null: none). */
    public void failWritesTo(String prefix) {
        failingFile.set(prefix);
    }

    /** How many write calls reached a file. */
    public long writes() {
        return writes.get();
    }

    /** Channels opened and not closed yet. */
    public int openChannels() {
        return open.get();
    }

    /**
     * What reached the disk since the last call, in order: "write NAME" for each write that
     * stored bytes (one per file in a row), "sync NAME" for each fsync (NAME is the directory's own
     * name for a directory).
     */
    public synchronized List<String> events() {
        List<String> e = List.copyOf(events);
        events.clear();
        return e;
    }

    private synchronized void event(String e) {
        if (events.isEmpty() || !events.get(events.size() - 1).equals(e) || !e.startsWith("write ")) {
            events.add(e);
        }
    }

    @Override
    public FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
            throws IOException {
        FileChannel real = FileChannel.open(path, options, attributes);
        open.incrementAndGet();
        return new Channel(real, path.getFileName().toString());
    }

    private final class Channel extends FileChannel {
        private final FileChannel real;
        private final String name;

        Channel(FileChannel real, String name) {
            this.real = real;
            this.name = name;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            String failing = failingFile.get();
            if (failing != null && name.startsWith(failing)) {
                throw new IOException(IO_ERROR);
            }
            long left = spaceLeft.get();
            if (left <= 0) {
                throw new IOException(NO_SPACE);
            }
            writes.incrementAndGet();
            event("write " + name);
            if (src.remaining() <= left) {
                int n = real.write(src);
                spaceLeft.addAndGet(-n);
                return n;
            }
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + (int) left);
            int n = real.write(part);
            src.position(src.position() + n);
            spaceLeft.set(0);
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (syncFails) {
                throw new IOException(IO_ERROR);
            }
            real.force(metaData);
            event("sync " + name);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            throw new UnsupportedOperationException("the journal writes one buffer at a time");
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            real.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException("not used by the journal");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            throw new UnsupportedOperationException("the journal only appends");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return real.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            open.decrementAndGet();
            real.close();
        }
    }
}
