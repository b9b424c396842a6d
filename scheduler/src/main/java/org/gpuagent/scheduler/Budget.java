package org.gpuagent.scheduler;

/**
 * What the ledger may lease on one device: B = total − headroom, with the headroom capped at the
 * total so that B is never negative. The one place the budget is computed and compared with a
 * request; the ledger, {@link Misfit} and the agent's configuration all use it.
 *
 * @param deviceTotalBytes the card's memory
 * @param headroomBytes    kept free, at most the total
 */
public record Budget(long deviceTotalBytes, long headroomBytes) {

    public Budget {
        if (headroomBytes < 0 || headroomBytes > deviceTotalBytes) {
            throw new IllegalArgumentException("headroom " + headroomBytes + " must be between 0 and the device's "
                    + deviceTotalBytes + " bytes");
        }
    }

    /** The budget on a device of {@code deviceTotalBytes} with {@code headroom} kept free. */
    public static Budget on(long deviceTotalBytes, Headroom headroom) {
        return new Budget(deviceTotalBytes, Math.min(deviceTotalBytes, headroom.bytesFor(deviceTotalBytes)));
    }

    /** B = total − headroom. */
    public long bytes() {
        return deviceTotalBytes - headroomBytes;
    }

    /** True when a request of {@code requestBytes} can never fit, whatever is released. */
    public boolean exceededBy(long requestBytes) {
        return requestBytes > bytes();
    }
}
