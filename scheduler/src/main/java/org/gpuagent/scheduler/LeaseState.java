package org.gpuagent.scheduler;

/** Where a lease is in its life. Only ACTIVE and EVICTING leases are counted against the budget. */
public enum LeaseState {
    /** Granted and counted. */
    ACTIVE,
    /**
     * Chosen as a preemption victim: its actuator has been started, and it stays counted until an
     * observation shows its memory back (or it is released).
     */
    EVICTING,
    /** No longer counted. Seen only in events and decisions, never in the ledger's lease list. */
    RELEASED
}
