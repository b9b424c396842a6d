package org.gpuagent.bench.report;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One figure of the report over the rounds: its value in each round, its anchor's value in the
 * same round where it has one, and its target.
 *
 * <p>Median: the middle of the sorted values (the mean of the two middle ones for an even count).
 * Spread: lowest to highest. Ratio to the anchor: the figure divided by its anchor within each
 * round (same machine state), then the median of those ratios. Rounds where a value is missing
 * are left out of all three.
 */
record Figure(String section, String name, String unit, double[] values, double[] anchorValues,
        Optional<String> anchorName, Optional<Target> target) {

    /** "≤ 150 ns over the floor", "≥ 2,000 /s": how the median is judged. */
    record Target(String text, Kind kind, double limit) {
        enum Kind { AT_MOST, AT_LEAST, AT_MOST_OVER_ANCHOR }
    }

    /** Values in round order; NaN where a round has none. */
    Figure {
        values = values.clone();
        anchorValues = anchorValues == null ? null : anchorValues.clone();
    }

    static OptionalDouble median(double[] xs) {
        double[] v = Arrays.stream(xs).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return OptionalDouble.empty();
        }
        int mid = v.length / 2;
        return OptionalDouble.of(v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2);
    }

    OptionalDouble median() {
        return median(values);
    }

    OptionalDouble min() {
        return Arrays.stream(values).filter(x -> !Double.isNaN(x)).min();
    }

    OptionalDouble max() {
        return Arrays.stream(values).filter(x -> !Double.isNaN(x)).max();
    }

    int rounds() {
        return (int) Arrays.stream(values).filter(x -> !Double.isNaN(x)).count();
    }

    /** The median of the per-round ratios figure ÷ anchor. */
    OptionalDouble anchorRatio() {
        if (anchorValues == null) {
            return OptionalDouble.empty();
        }
        double[] ratios = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            ratios[i] = i < anchorValues.length && anchorValues[i] > 0 ? values[i] / anchorValues[i] : Double.NaN;
        }
        return median(ratios);
    }

    /** "met", "not met", or empty without a target or data. */
    String verdict() {
        if (target.isEmpty() || median().isEmpty()) {
            return "";
        }
        Target t = target.get();
        double m = median().getAsDouble();
        boolean met = switch (t.kind()) {
            case AT_MOST -> m <= t.limit();
            case AT_LEAST -> m >= t.limit();
            case AT_MOST_OVER_ANCHOR -> {
                OptionalDouble a = anchorValues == null ? OptionalDouble.empty() : median(anchorValues);
                yield a.isPresent() && m - a.getAsDouble() <= t.limit();
            }
        };
        return met ? "met" : "**not met**";
    }

    /** Three significant digits, thousands separated. */
    static String format(double v) {
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
