package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.OptionalLong;
import java.util.Set;

/**
 * How the journal's files reach the disk: created readable by their owner only, replaced
 * atomically (a synced temporary file renamed over the old one, then the directory synced), so
 * that a crash leaves the old content or the new, never a mix.
 */
final class DurableFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> CREATE_OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    private DurableFile() {
    }

    /**
     * Opens {@code file} for writing, creating it if needed, mode 0600 whatever the umask: created
     * so (the umask can only take bits away) and then set so (an older file, or a umask that took
     * the owner's write bit).
     */
    static FileChannel openOwnerOnly(FileOpener files, Path file, OpenOption... options) throws IOException {
        Set<OpenOption> all = new java.util.HashSet<>(Set.of(options));
        all.add(StandardOpenOption.CREATE);
        all.add(StandardOpenOption.WRITE);
        FileChannel ch = files.open(file, all, CREATE_OWNER_ONLY);
        // Our own file, just opened for writing: this fails only on a file system without modes.
        Files.setPosixFilePermissions(file, OWNER_ONLY);
        return ch;
    }

    /** Writes {@code content} to {@code temporary}, syncs it, and renames it over {@code target}. */
    static void replace(FileOpener files, Path target, Path temporary, ByteBuffer content) throws IOException {
        try (FileChannel ch = openOwnerOnly(files, temporary, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, content);
            ch.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(files, target.getParent());
    }

    /** Makes a rename or deletion in {@code dir} durable. */
    static void forceDirectory(FileOpener files, Path dir) throws IOException {
        try (FileChannel d = files.open(dir, EnumSet.of(StandardOpenOption.READ))) {
            d.force(true);
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** A file holding one non-negative decimal number and a newline, replaced atomically. */
    static void writeNumber(FileOpener files, Path file, long n) throws IOException {
        replace(files, file, file.resolveSibling(file.getFileName() + ".new"),
                ByteBuffer.wrap((n + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * The number {@link #writeNumber} wrote, or empty when there is no such file.
     *
     * @param what what the file is, for the error message
     * @throws IOException it holds anything else (it was changed by hand or damaged)
     */
    static OptionalLong readNumber(Path file, String what) throws IOException {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        String text = new String(b, StandardCharsets.US_ASCII);
        if (text.matches("[0-9]{1,18}\n")) {
            return OptionalLong.of(Long.parseLong(text.strip()));
        }
        String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        throw new IOException(what + " " + file + " does not hold a number (it holds '"
                + shown.replaceAll("\\p{Cntrl}", "?") + "')");
    }
}
