package org.gpuagent.scheduler;

/**
 * Formats byte counts for people, in binary units: {@code 2.5 GiB}, {@code 512 MiB},
 * {@code 1.5 MiB}, {@code 100 bytes}. One decimal below ten units of the chosen size, whole
 * numbers above; a trailing {@code .0} is dropped.
 */
public final class ByteSize {
    public static final long KIB = 1024L;
    public static final long MIB = 1024L * KIB;
    public static final long GIB = 1024L * MIB;

    private ByteSize() {
    }

    public static String format(long bytes) {
        if (bytes < 0) {
            return "-" + format(bytes == Long.MIN_VALUE ? Long.MAX_VALUE : -bytes);
        }
        if (bytes >= GIB) {
            return scaled(bytes, GIB, "GiB");
        }
        if (bytes >= MIB) {
            return scaled(bytes, MIB, "MiB");
        }
        if (bytes >= KIB) {
            return scaled(bytes, KIB, "KiB");
        }
        return bytes == 1 ? "1 byte" : bytes + " bytes";
    }

    private static String scaled(long bytes, long unit, String name) {
        double value = (double) bytes / unit;
        if (value < 9.95) {
            long tenths = Math.round(value * 10);
            return (tenths % 10 == 0 ? Long.toString(tenths / 10) : (tenths / 10) + "." + (tenths % 10)) + " " + name;
        }
        return Math.round(value) + " " + name;
    }
}
