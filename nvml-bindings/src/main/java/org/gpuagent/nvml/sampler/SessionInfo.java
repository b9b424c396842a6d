package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What an NVML session said about itself when it opened; the same object in every snapshot of
 * that session. A version is absent when its call failed (the snapshot's errors say why).
 *
 * @param backend           {@code nvml} or {@code sim}; empty before a session ever opened
 * @param cudaDriverVersion {@code 1000*major + 10*minor} (e.g. 13000)
 */
public record SessionInfo(Optional<String> backend, Optional<String> driverVersion, Optional<String> nvmlVersion,
                          OptionalInt cudaDriverVersion) {
    /** Before any session opened. */
    public static final SessionInfo NONE = new SessionInfo(Optional.empty(), Optional.empty(), Optional.empty(),
            OptionalInt.empty());

    public SessionInfo {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(driverVersion, "driverVersion");
        Objects.requireNonNull(nvmlVersion, "nvmlVersion");
        Objects.requireNonNull(cudaDriverVersion, "cudaDriverVersion");
    }
}
