package org.gpuagent.agent.api;

import java.math.BigDecimal;

/**
 * A JSON number token's text turned into a {@code long}, deciding from the text alone whether it
 * can be one before any arithmetic is done. {@code 1e999999999} is refused by reading its exponent,
 * never by building 10^999999999 (which runs the JVM out of memory) or by scaling a
 * {@link BigDecimal} (which holds a core for minutes).
 *
 * <p>The token has been checked by the JSON parser (its syntax, and its length up to
 * {@link #MAX_TOKEN_CHARS}); this class still refuses anything it cannot read rather than trust it.
 */
final class WholeNumber {
    /** Longest number token the request parser accepts; far beyond the 20 characters of 2^63. */
    static final int MAX_TOKEN_CHARS = 64;
    /**
     * Beyond this exponent magnitude a number with at most {@link #MAX_TOKEN_CHARS} digits is
     * either zero, smaller than 1 or larger than 2^63, whatever its digits: decided without math.
     */
    private static final int EXPONENT_BOUND = 2 * MAX_TOKEN_CHARS;
    private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);
    private static final BigDecimal MIN = BigDecimal.valueOf(Long.MIN_VALUE);

    /** Why a token is not a {@code long}: the sentence ends the API's message about the field. */
    static final class NotALong extends Exception {
        private static final long serialVersionUID = 1L;

        NotALong(String message) {
            super(message, null, false, false);
        }
    }

    private WholeNumber() {
    }

    /**
     * @param token a JSON number as written: {@code -?int(.frac)?([eE][+-]?digits)?}
     * @return its value when it is a whole number within [−2^63, 2^63−1]
     * @throws NotALong "is not a whole number" or "is beyond 2^63-1", with the token quoted
     */
    static long parse(String token) throws NotALong {
        if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            throw new NotALong("is not a number of at most " + MAX_TOKEN_CHARS + " characters");
        }
        int e = Math.max(token.indexOf('e'), token.indexOf('E'));
        String mantissa = e < 0 ? token : token.substring(0, e);
        if (!mantissa.matches("-?[0-9]+(\\.[0-9]+)?")) {
            throw new NotALong("is not a number: " + token);
        }
        int exponent = 0;
        if (e >= 0) {
            String exp = token.substring(e + 1);
            if (!exp.matches("[+-]?[0-9]+")) {
                throw new NotALong("is not a number: " + token);
            }
            boolean negative = exp.startsWith("-");
            String digits = exp.replaceFirst("^[+-]", "").replaceFirst("^0+(?=.)", "");
            if (digits.length() > 4 || Integer.parseInt(digits) > EXPONENT_BOUND) {
                if (mantissa.replaceAll("[-.0]", "").isEmpty()) {
                    return 0;
                }
                throw new NotALong(negative ? "must be a whole number, got " + token
                        : "is " + token + ", beyond 2^63-1");
            }
            exponent = negative ? -Integer.parseInt(digits) : Integer.parseInt(digits);
        }
        if (e < 0 && mantissa.indexOf('.') < 0) {
            String digits = mantissa.replaceFirst("^-", "");
            if (digits.length() > 19 || digits.length() == 19 && digits.compareTo("9223372036854775807") > 0) {
                if (!(mantissa.equals("-9223372036854775808"))) {
                    throw new NotALong("is " + token + ", beyond 2^63-1");
                }
            }
            return Long.parseLong(mantissa);
        }
        // At most 64 digits scaled by at most 10^128: a few hundred bits, whatever the input.
        BigDecimal value = new BigDecimal(mantissa).scaleByPowerOfTen(exponent);
        if (value.signum() != 0 && value.stripTrailingZeros().scale() > 0) {
            throw new NotALong("must be a whole number, got " + token);
        }
        if (value.compareTo(MAX) > 0 || value.compareTo(MIN) < 0) {
            throw new NotALong("is " + token + ", beyond 2^63-1");
        }
        return value.longValueExact();
    }
}
