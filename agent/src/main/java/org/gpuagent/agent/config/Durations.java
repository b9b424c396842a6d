package org.gpuagent.agent.config;

import java.time.Duration;
import java.util.Locale;

/**
 * Durations as people write them: {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 1m30s}.
 * Parsing is bounded: the text's length, the number of parts and each number's digits are
 * checked before any arithmetic, so no input can build a large number or take long.
 */
public final class Durations {
    /** Longer texts are refused before they are scanned. */
    public static final int MAX_TEXT_LENGTH = 64;
    /** Digits of one number: 10^18 milliseconds are already 31 million years. */
    static final int MAX_DIGITS = 18;
    /** Parts like {@code 1h2m3s4ms}: more than one per unit is already odd. */
    static final int MAX_PARTS = 8;
    private static final String EXAMPLES = " (use e.g. 500ms, 30s, 2m, 1h, 1m30s)";

    private Durations() {
    }

    /**
     * Parses a non-negative duration; a bare {@code 0} is zero.
     *
     * @throws IllegalArgumentException with a message fit for a user
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration" + EXAMPLES);
        }
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new IllegalArgumentException("a duration of " + text.length() + " characters is not a duration (at most "
                    + MAX_TEXT_LENGTH + ")");
        }
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        if (t.startsWith("-")) {
            throw new IllegalArgumentException("\"" + text + "\" is negative: a duration must not be");
        }
        // NUMBER UNIT [NUMBER UNIT]..., scanned by hand (no regular expression: a client command
        // pays for the JDK's regex and lambda classes at start-up).
        Duration d = Duration.ZERO;
        int parts = 0;
        int i = 0;
        while (i < t.length()) {
            int digitsStart = i;
            while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
                i++;
            }
            int digitsEnd = i;
            while (i < t.length() && t.charAt(i) >= 'a' && t.charAt(i) <= 'z') {
                i++;
            }
            String unit = t.substring(digitsEnd, i);
            if (digitsEnd == digitsStart || unit.isEmpty() || ++parts > MAX_PARTS) {
                throw new IllegalArgumentException("\"" + text + "\" is not a duration" + EXAMPLES);
            }
            int first = digitsStart;
            while (first < digitsEnd - 1 && t.charAt(first) == '0') {
                first++;
            }
            if (digitsEnd - first > MAX_DIGITS) {
                throw new IllegalArgumentException("\"" + text + "\" is too long a duration");
            }
            long n = Long.parseLong(t, first, digitsEnd, 10);
            try {
                d = d.plus(switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    case "d" -> Duration.ofDays(n);
                    default -> throw new IllegalArgumentException("\"" + text + "\" has an unknown unit \"" + unit
                            + "\"" + EXAMPLES);
                });
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("\"" + text + "\" is too long a duration");
            }
        }
        return d;
    }

    /** {@code 1m30s}, {@code 500ms}, {@code 0s}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        long ms = d.toMillis();
        long h = ms / 3_600_000;
        ms %= 3_600_000;
        long m = ms / 60_000;
        ms %= 60_000;
        long s = ms / 1000;
        ms %= 1000;
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (m > 0) {
            sb.append(m).append('m');
        }
        if (s > 0) {
            sb.append(s).append('s');
        }
        if (ms > 0) {
            sb.append(ms).append("ms");
        }
        return sb.toString();
    }
}
