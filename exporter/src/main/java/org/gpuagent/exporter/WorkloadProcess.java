package org.gpuagent.exporter;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One process of a workload on one GPU.
 *
 * @param pid            the process id as NVML reports it
 * @param gpu            the NVML index of the GPU it holds a context on
 * @param usedBytes      its frame-buffer memory; absent when NVML could not tell (no permission)
 * @param smPercent      from NVML's per-process samples; absent when the GPU gave no per-process
 *                       samples at all (a process without a sample while others had one reads 0)
 * @param memoryPercent  memory-controller use, same rules
 * @param encoderPercent NVENC use, same rules
 * @param decoderPercent NVDEC use, same rules
 */
public record WorkloadProcess(int pid, int gpu, OptionalLong usedBytes, OptionalInt smPercent,
                              OptionalInt memoryPercent, OptionalInt encoderPercent, OptionalInt decoderPercent) {
    public WorkloadProcess {
        if (pid <= 0) {
            throw new IllegalArgumentException("a workload process needs a positive pid, got " + pid);
        }
        if (gpu < 0) {
            throw new IllegalArgumentException("pid " + pid + ": GPU index must not be negative, got " + gpu);
        }
        Objects.requireNonNull(usedBytes, "usedBytes");
        Objects.requireNonNull(smPercent, "smPercent");
        Objects.requireNonNull(memoryPercent, "memoryPercent");
        Objects.requireNonNull(encoderPercent, "encoderPercent");
        Objects.requireNonNull(decoderPercent, "decoderPercent");
        if (usedBytes.isPresent() && usedBytes.getAsLong() < 0) {
            throw new IllegalArgumentException("pid " + pid + ": used memory must not be negative, got "
                    + usedBytes.getAsLong());
        }
    }

    /** A process with memory and no utilization samples. */
    public static WorkloadProcess of(int pid, int gpu, long usedBytes) {
        return new WorkloadProcess(pid, gpu, OptionalLong.of(usedBytes), OptionalInt.empty(), OptionalInt.empty(),
                OptionalInt.empty(), OptionalInt.empty());
    }

    OptionalInt percent(WorkloadEngine engine) {
        return switch (engine) {
            case SM -> smPercent;
            case MEMORY -> memoryPercent;
            case ENCODER -> encoderPercent;
            case DECODER -> decoderPercent;
        };
    }
}
