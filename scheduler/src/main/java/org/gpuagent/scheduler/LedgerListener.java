package org.gpuagent.scheduler;

/**
 * Receives {@link LedgerEvent}s on the ledger's writer, in order. Must be quick and must not
 * block (hand slow work such as webhooks to another thread). An exception is logged and the
 * ledger carries on; it never undoes the change the event reports.
 */
@FunctionalInterface
public interface LedgerListener {
    void onEvent(LedgerEvent event);
}
