package org.gpuagent.agent.config;

/**
 * VRAM kept free for the driver, a display and fragmentation: the budget is the device total
 * minus this. {@code auto} is the larger of 5 % and 192 MiB.
 */
public sealed interface Headroom {

    long bytesFor(long deviceTotalBytes);

    record Auto() implements Headroom {
        @Override
        public long bytesFor(long total) {
            return Math.max(total / 20, 192 * ByteSize.MIB);
        }

        @Override
        public String toString() {
            return "auto";
        }
    }

    record Fixed(long bytes) implements Headroom {
        @Override
        public long bytesFor(long total) {
            return bytes;
        }

        @Override
        public String toString() {
            return ByteSize.format(bytes);
        }
    }

    record Percent(double percent) implements Headroom {
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
