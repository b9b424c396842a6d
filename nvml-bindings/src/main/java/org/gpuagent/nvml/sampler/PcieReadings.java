package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.OptionalInt;
import org.gpuagent.nvml.PcieCounter;

/** PCIe throughput (KiB/s over the driver's last 20 ms) and link state, each absent when not reported. */
public record PcieReadings(OptionalInt txKiBps, OptionalInt rxKiBps, OptionalInt linkGeneration, OptionalInt linkWidth,
                           OptionalInt maxLinkGeneration, OptionalInt maxLinkWidth) {
    public PcieReadings {
        Objects.requireNonNull(txKiBps, "txKiBps");
        Objects.requireNonNull(rxKiBps, "rxKiBps");
        Objects.requireNonNull(linkGeneration, "linkGeneration");
        Objects.requireNonNull(linkWidth, "linkWidth");
        Objects.requireNonNull(maxLinkGeneration, "maxLinkGeneration");
        Objects.requireNonNull(maxLinkWidth, "maxLinkWidth");
    }

    public OptionalInt throughputKiBps(PcieCounter counter) {
        return counter == PcieCounter.TX ? txKiBps : rxKiBps;
    }
}
