package org.gpuagent.scheduler;

import java.math.BigInteger;
import java.util.Locale;

/**
 * Byte counts as people write and read them; the one parser and formatter of sizes in the project
 * (configuration, CLI, HTTP API, sentences, logs).
 *
 * <p>Parsing: {@code 4GiB}, {@code 1500MiB}, {@code 512M}, {@code 2.5GiB}, {@code 1.2GiB} (rounded
 * down to whole bytes), plain bytes. Single-letter and IEC suffixes are binary (K = KiB = 1024, as
 * systemd and Podman read them); {@code kB}/{@code MB}/{@code GB}/{@code TB} are decimal.
 *
 * <p>Formatting: binary units up to GiB with at most two decimals, rounded half up, trailing zeros
 * dropped: {@code 2.5 GiB}, {@code 204.8 MiB}, {@code 1.17 GiB}, {@code 512 B}.
 */
public final class ByteSize {
    public static final long KIB = 1024L;
    public static final long MIB = 1024L * KIB;
    public static final long GIB = 1024L * MIB;
    public static final long TIB = 1024L * GIB;

    private ByteSize() {
    }

    /** Longer texts are refused before they are scanned: no size needs more characters. */
    public static final int MAX_TEXT_LENGTH = 64;
    /** Significant digits before the point: 2^63-1 has 19. */
    static final int MAX_WHOLE_DIGITS = 19;
    /** Digits after the point: finer than 10^-18 of a TiB is below a byte. */
    static final int MAX_FRACTION_DIGITS = 18;

    /**
     * Parses a positive size in bytes; a fraction is rounded down to whole bytes
     * ({@code 1.2GiB} = 1288490188). The text is checked for its length and digit counts before
     * any arithmetic, so no input can build a large number or take long: every text costs at
     * most {@value #MAX_TEXT_LENGTH} characters of scanning and a few multiplications.
     *
     * @throws IllegalArgumentException with a message fit for a user when the text is not a size,
     *         is zero or negative, rounds down to zero bytes, or does not fit in a signed 64-bit
     *         byte count
     */
    public static long parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty size (use e.g. 4GiB, 1500MiB, 512M or plain bytes)");
        }
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new IllegalArgumentException("a size of " + text.length() + " characters is not a size (at most "
                    + MAX_TEXT_LENGTH + ")");
        }
        String t = text.strip();
        if (t.startsWith("-")) {
            throw new IllegalArgumentException("\"" + text + "\" is negative: a size must be positive");
        }
        // NUMBER[.FRACTION] [UNIT], scanned by hand: a regular expression costs a client command
        // (gpu-agent admit) the JDK's lambda bootstrap, about 15 ms at start-up.
        int i = 0;
        while (i < t.length() && isDigit(t.charAt(i))) {
            i++;
        }
        int wholeEnd = i;
        int fractionStart = i;
        int fractionEnd = i;
        if (i < t.length() && t.charAt(i) == '.') {
            i++;
            fractionStart = i;
            while (i < t.length() && isDigit(t.charAt(i))) {
                i++;
            }
            fractionEnd = i;
        }
        boolean noDigits = wholeEnd == 0 && fractionEnd == fractionStart;
        boolean danglingPoint = fractionStart > wholeEnd && (wholeEnd == 0 || fractionEnd == fractionStart);
        while (i < t.length() && t.charAt(i) == ' ') {
            i++;
        }
        int unitStart = i;
        while (i < t.length() && isLetter(t.charAt(i))) {
            i++;
        }
        if (noDigits || danglingPoint || i != t.length()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a size (use e.g. 4GiB, 1500MiB, 1.2GiB, 512M or plain bytes)");
        }
        long unit = unit(t.substring(unitStart), text);
        int firstSignificant = 0;
        while (firstSignificant < wholeEnd - 1 && t.charAt(firstSignificant) == '0') {
            firstSignificant++;
        }
        if (wholeEnd - firstSignificant > MAX_WHOLE_DIGITS) {
            throw tooLarge(text);
        }
        if (fractionEnd - fractionStart > MAX_FRACTION_DIGITS) {
            throw new IllegalArgumentException("\"" + text + "\" has more than " + MAX_FRACTION_DIGITS
                    + " digits after the point");
        }
        long bytes;
        try {
            long whole = 0;
            for (int d = firstSignificant; d < wholeEnd; d++) {
                whole = Math.addExact(Math.multiplyExact(whole, 10L), t.charAt(d) - '0');
            }
            bytes = Math.multiplyExact(whole, unit);
            if (fractionEnd > fractionStart) {
                // floor(0.FRACTION × unit): at most 18 digits times at most 2^40, exact in BigInteger.
                BigInteger numerator = new BigInteger(t.substring(fractionStart, fractionEnd))
                        .multiply(BigInteger.valueOf(unit));
                bytes = Math.addExact(bytes, numerator.divide(BigInteger.TEN.pow(fractionEnd - fractionStart))
                        .longValueExact());
            }
        } catch (ArithmeticException e) {
            throw tooLarge(text);
        }
        if (bytes <= 0) {
            boolean allZero = true;
            for (int d = 0; d < fractionEnd; d++) {
                allZero &= t.charAt(d) == '0' || t.charAt(d) == '.';
            }
            throw new IllegalArgumentException("\"" + text + "\" is "
                    + (allZero ? "zero: a size must be positive" : "less than one byte: a size must be at least 1 byte"));
        }
        return bytes;
    }

    private static IllegalArgumentException tooLarge(String text) {
        return new IllegalArgumentException("\"" + text + "\" is too large (more than 2^63-1 bytes)");
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

    /** A short readable form: {@code 2.5 GiB}, {@code 300 MiB}, {@code 512 B}. Allocation-light: sentences call it per decision. */
    public static String format(long bytes) {
        if (bytes < 0) {
            return "-" + format(bytes == Long.MIN_VALUE ? Long.MAX_VALUE : -bytes);
        }
        if (bytes >= GIB) {
            return scaled(bytes, GIB, " GiB");
        }
        if (bytes >= MIB) {
            return scaled(bytes, MIB, " MiB");
        }
        if (bytes >= KIB) {
            return scaled(bytes, KIB, " KiB");
        }
        return bytes + " B";
    }

    /** {@code bytes / unit} in hundredths, rounded half up exactly (no floating point), zeros trimmed. */
    private static String scaled(long bytes, long unit, String name) {
        long hundredths = bytes / unit * 100 + (bytes % unit * 100 + unit / 2) / unit;
        long whole = hundredths / 100;
        int fraction = (int) (hundredths % 100);
        StringBuilder b = new StringBuilder(24).append(whole);
        if (fraction != 0) {
            b.append('.').append(fraction / 10);
            if (fraction % 10 != 0) {
                b.append(fraction % 10);
            }
        }
        return b.append(name).toString();
    }
}
