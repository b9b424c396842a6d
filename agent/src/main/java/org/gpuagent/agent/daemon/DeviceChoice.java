package org.gpuagent.agent.daemon;

import java.util.Optional;
import java.util.stream.Collectors;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;

/** The GPU the ledger arbitrates, as configured: an NVML index ({@code 0}) or a UUID ({@code GPU-...}). */
public record DeviceChoice(String configured) {

    public Optional<DeviceSnapshot> select(GpuSnapshot snapshot) {
        if (configured.chars().allMatch(Character::isDigit)) {
            return snapshot.device(Integer.parseInt(configured));
        }
        return snapshot.deviceByUuid(configured);
    }

    /** "device GPU-... is not among the GPUs NVML lists (0 GPU-5e7c... Quadro P1000)". */
    public String notFound(GpuSnapshot snapshot) {
        String seen = snapshot.devices().isEmpty() ? "none"
                : snapshot.devices().stream().map(d -> d.index() + " " + d.uuid() + " " + d.name())
                        .collect(Collectors.joining(", "));
        return "device " + configured + " is not among the GPUs NVML lists (" + seen + ")";
    }
}
