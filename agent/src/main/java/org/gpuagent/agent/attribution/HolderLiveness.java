package org.gpuagent.agent.attribution;

import java.util.Optional;

/**
 * Whether a lease's holder or pid still exists, for reconciliation. What cannot be checked counts
 * as alive: a lease is reclaimed only on evidence that what held it is gone.
 */
public interface HolderLiveness {

    /** Whether process {@code pid} exists. */
    boolean pidAlive(long pid);

    /**
     * Whether {@code holder} exists: {@code Optional.empty()} when this cannot tell (a holder of a
     * form it does not know; a systemd unit or an OCI container without a readable cgroupfs, see
     * {@link CgroupLiveness}); the lease then lives as long as its pids, or for ever when it has
     * none.
     */
    Optional<Boolean> holderAlive(String holder);

    /**
     * Processes via {@link ProcessHandle} (i.e. {@code /proc}); holders written {@code pid:N} by
     * their pid; other holders unknown (the simulator's liveness; {@link CgroupLiveness} adds units
     * and containers on a real GPU).
     */
    static HolderLiveness processes() {
        return new HolderLiveness() {
            @Override
            public boolean pidAlive(long pid) {
                return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            }

            @Override
            public Optional<Boolean> holderAlive(String holder) {
                if (holder.startsWith("pid:")) {
                    try {
                        return Optional.of(pidAlive(Long.parseLong(holder.substring(4).strip())));
                    } catch (NumberFormatException e) {
                        return Optional.empty();
                    }
                }
                return Optional.empty();
            }
        };
    }
}
