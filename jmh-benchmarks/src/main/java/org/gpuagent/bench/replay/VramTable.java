package org.gpuagent.bench.replay;

import java.util.Map;

/**
 * What each kind of work takes on the card, with where the figure comes from
 * ({@code bench/scenarios/vram-table.yaml}). Keys in file order.
 */
record VramTable(String file, Map<String, Row> rows) {

    /**
     * @param bytes  frame buffer the work takes, its CUDA context included
     * @param source where the figure comes from
     */
    record Row(String kind, String service, long bytes, String source) {
    }

    Row row(String kind) {
        Row r = rows.get(kind);
        if (r == null) {
            throw new IllegalArgumentException("no table row for kind " + kind);
        }
        return r;
    }
}
