package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.Optional;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.NvmlDevice;

/** What a GPU is, read once when the session opens; shared by every snapshot of that session. */
public record DeviceIdentity(int index, String uuid, String name, Brand brand, String pciBusId, Optional<String> serial,
                             Optional<String> vbiosVersion, Optional<ComputeCapability> computeCapability) {
    public DeviceIdentity {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(brand, "brand");
        Objects.requireNonNull(pciBusId, "pciBusId");
        Objects.requireNonNull(serial, "serial");
        Objects.requireNonNull(vbiosVersion, "vbiosVersion");
        Objects.requireNonNull(computeCapability, "computeCapability");
    }

    public static DeviceIdentity of(NvmlDevice d) {
        return new DeviceIdentity(d.index(), d.uuid(), d.name(), d.brand(), d.pciBusId(), d.serial(), d.vbiosVersion(),
                d.computeCapability());
    }
}
