package org.gpuagent.agent.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;

/**
 * Sizes as people write them: {@code 4GiB}, {@code 1500MiB}, {@code 512M}, {@code 2.5GiB},
 * plain bytes. Single-letter and IEC suffixes are binary (K = KiB = 1024, as systemd and Podman
 * read them); {@code kB}/{@code MB}/{@code GB}/{@code TB} are decimal.
 */
public final class ByteSize {
    public static final long KIB = 1024L;
    public static final long MIB = 1024L * KIB;
    public static final long GIB = 1024L * MIB;
    public static final long TIB = 1024L * GIB;

    private ByteSize() {
    }

    /**
     * Parses a positive size in bytes.
     *
     * @throws IllegalArgumentException with a message fit for a user when the text is not a size,
     *         is zero or negative, or does not fit in a signed 64-bit byte count
     */
    public static long parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty size (use e.g. 4GiB, 1500MiB, 512M or plain bytes)");
        }
        if (text.strip().startsWith("-")) {
            throw new IllegalArgumentException("\"" + text + "\" is negative: a size must be positive");
        }
        // NUMBER[.FRACTION] [UNIT], scanned by hand: a regular expression costs a client command
        // (gpu-agent admit) the JDK's lambda bootstrap, about 15 ms at start-up.
        String t = text.strip();
        int i = 0;
        while (i < t.length() && isDigit(t.charAt(i))) {
            i++;
        }
        int digitsEnd = i;
        if (i < t.length() && t.charAt(i) == '.') {
            i++;
            while (i < t.length() && isDigit(t.charAt(i))) {
                i++;
            }
            if (i == digitsEnd + 1) {
                digitsEnd = -1;
            }
        }
        String number = t.substring(0, i);
        while (i < t.length() && t.charAt(i) == ' ') {
            i++;
        }
        int unitStart = i;
        while (i < t.length() && isLetter(t.charAt(i))) {
            i++;
        }
        if (digitsEnd <= 0 || i != t.length()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a size (use e.g. 4GiB, 1500MiB, 512M or plain bytes)");
        }
        long unit = unit(t.substring(unitStart), text);
        BigDecimal bytes = new BigDecimal(number).multiply(BigDecimal.valueOf(unit));
        BigInteger whole;
        try {
            whole = bytes.toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a whole number of bytes");
        }
        if (whole.signum() <= 0) {
            throw new IllegalArgumentException("\"" + text + "\" is zero: a size must be positive");
        }
        if (whole.bitLength() > 63) {
            throw new IllegalArgumentException("\"" + text + "\" is too large (more than 2^63-1 bytes)");
        }
        return whole.longValueExact();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static long unit(String suffix, String text) {
        return switch (suffix.toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "k", "kib" -> KIB;
            case "m", "mib" -> MIB;
            case "g", "gib" -> GIB;
            case "t", "tib" -> TIB;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            default -> throw new IllegalArgumentException("\"" + text + "\" has an unknown unit \"" + suffix
                    + "\" (use B, KiB, MiB, GiB, TiB, K, M, G, T, kB, MB, GB or TB)");
        };
    }

    /** A short readable form: {@code 2.5 GiB}, {@code 300 MiB}, {@code 512 B}. */
    public static String format(long bytes) {
        long abs = Math.abs(bytes);
        if (abs >= GIB) {
            return trim(bytes / (double) GIB) + " GiB";
        }
        if (abs >= MIB) {
            return trim(bytes / (double) MIB) + " MiB";
        }
        if (abs >= KIB) {
            return trim(bytes / (double) KIB) + " KiB";
        }
        return bytes + " B";
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.2f", v);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
