package org.gpuagent.nvml.sampler;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One optional integer reading per constant of an enum: a clock in MHz per
 * {@link org.gpuagent.nvml.ClockType}, a threshold in degrees Celsius per
 * {@link org.gpuagent.nvml.TemperatureThreshold}. A reading is absent when the GPU did not answer.
 * Immutable.
 *
 * @param <K> the enum the readings are keyed by
 */
public final class EnumReadings<K extends Enum<K>> {
    private final Class<K> kind;
    /** By ordinal; never null, never written after construction. */
    private final OptionalInt[] values;

    /**
     * Takes {@code values} without copying: one non-null reading per constant of {@code kind}, by
     * ordinal, which the caller gives up (the sampler's hot path; the public factories check).
     */
    EnumReadings(Class<K> kind, OptionalInt[] values) {
        this.kind = kind;
        this.values = values;
    }

    /** Every reading absent. */
    public static <K extends Enum<K>> EnumReadings<K> none(Class<K> kind) {
        Objects.requireNonNull(kind, "kind");
        OptionalInt[] values = new OptionalInt[kind.getEnumConstants().length];
        Arrays.fill(values, OptionalInt.empty());
        return new EnumReadings<>(kind, values);
    }

    /** The readings in {@code present}; the constants it lacks are absent. */
    public static <K extends Enum<K>> EnumReadings<K> of(Class<K> kind, Map<K, Integer> present) {
        Objects.requireNonNull(kind, "kind");
        OptionalInt[] values = new OptionalInt[kind.getEnumConstants().length];
        Arrays.fill(values, OptionalInt.empty());
        present.forEach((k, v) -> values[k.ordinal()] = OptionalInt.of(v));
        return new EnumReadings<>(kind, values);
    }

    public OptionalInt get(K key) {
        return values[key.ordinal()];
    }

    /** The present readings, in the enum's order. */
    public Map<K, Integer> present() {
        EnumMap<K, Integer> m = new EnumMap<>(kind);
        for (K k : kind.getEnumConstants()) {
            values[k.ordinal()].ifPresent(v -> m.put(k, v));
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnumReadings<?> other && kind == other.kind && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return kind.getSimpleName() + present();
    }
}
