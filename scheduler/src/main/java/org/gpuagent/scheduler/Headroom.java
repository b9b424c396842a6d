package org.gpuagent.scheduler;

/**
 * VRAM kept free for the driver, a display and fragmentation: the budget is the device total minus
 * this (see {@link Budget}). Configured as {@code headroom: auto | SIZE | PERCENT%}.
 */
public sealed interface Headroom {

    /** The floor of the default headroom. */
    long MIN_AUTO_BYTES = 192 * ByteSize.MIB;

    /** The headroom on a device of {@code deviceTotalBytes}; may exceed the total (then there is no budget). */
    long bytesFor(long deviceTotalBytes);

    /** The default: the larger of 5 % of the device and {@link #MIN_AUTO_BYTES}. */
    static Headroom auto() {
        return new Auto();
    }

    static Headroom fixed(long bytes) {
        return new Fixed(bytes);
    }

    static Headroom percent(double percent) {
        return new Percent(percent);
    }

    /** The larger of 5 % of the device and 192 MiB. */
    record Auto() implements Headroom {
        @Override
        public long bytesFor(long total) {
            return Math.max(total / 20, MIN_AUTO_BYTES);
        }

        @Override
        public String toString() {
            return "auto";
        }
    }

    /** The same number of bytes on every device. */
    record Fixed(long bytes) implements Headroom {
        public Fixed {
            if (bytes < 0) {
                throw new IllegalArgumentException("headroom must not be negative, got " + bytes);
            }
        }

        @Override
        public long bytesFor(long total) {
            return bytes;
        }

        @Override
        public String toString() {
            return ByteSize.format(bytes);
        }
    }

    /** A share of the device, rounded up to whole bytes. */
    record Percent(double percent) implements Headroom {
        public Percent {
            if (!(percent >= 0 && percent < 100)) {
                throw new IllegalArgumentException("a headroom of " + percent + "% is outside 0-99%");
            }
        }

        @Override
        public long bytesFor(long total) {
            return (long) Math.ceil(total * percent / 100.0);
        }

        @Override
        public String toString() {
            return percent + "%";
        }
    }
}
