package org.gpuagent.nvml;

import java.util.Objects;
import java.util.Optional;

/**
 * What a GPU is: the answers to NVML's identity queries, read once when a device is opened and
 * never changing after. The one identity type of the project: {@link NvmlDevice#identity()} (the
 * JNA binding and the simulator), the sampler's snapshots, and the simulator's card profiles all
 * hold this record.
 *
 * <p>The NVML index is not part of it: it is the device's place in NVML's enumeration (PCI bus
 * order by default), which a reboot or another card can change, while the UUID stays.
 *
 * @param uuid              e.g. {@code GPU-18cb343f-5c18-c7cf-5ca0-1d49553d8855}
 * @param name              e.g. {@code Quadro P1000}
 * @param brand             {@link Brand#UNKNOWN} where the driver does not say
 * @param pciBusId          e.g. {@code 00000000:01:00.0}
 * @param serial            absent where the board has none (GeForce) or the call is not supported
 * @param vbiosVersion      absent where the call is not supported
 * @param computeCapability absent where the call is not supported
 */
public record DeviceIdentity(String uuid, String name, Brand brand, String pciBusId, Optional<String> serial,
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

    /** The same card at another UUID and PCI address (the second of two identical cards). */
    public DeviceIdentity at(String otherUuid, String otherPciBusId) {
        return new DeviceIdentity(otherUuid, name, brand, otherPciBusId, serial, vbiosVersion, computeCapability);
    }
}
