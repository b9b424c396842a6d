package org.gpuagent.nvml.sim;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * The contract's invariants over a simulated host with the H200 profile and a second P1000 (two
 * GPUs, two PCI addresses), with a compute process, a graphics process and full load on the H200.
 * The H200's own reference values are checked in {@link GpuProfileTest}.
 */
class SimulatedH200ContractTest extends NvmlContractTest {
    private final ManualTime time = new ManualTime();
    private final SimulatedGpuHost host = SimulatedGpuHost.create(3, time, GpuProfile.H200,
            GpuProfile.QUADRO_P1000.withIdentity("GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "00000000:02:00.0")
                    .withDriver(GpuProfile.H200.driver()));

    SimulatedH200ContractTest() {
        host.device(0).startProcess(700, "python3").allocate(10L << 30).setLoad(100, 0, 40);
        host.device(0).startProcess(701, "Xorg", ProcessKind.GRAPHICS);
        host.device(1).startProcess(702, "ffmpeg").setLoad(5, 60, 60);
        time.advanceSeconds(120);
    }

    @Override
    protected Nvml open() {
        return host.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.empty();
    }
}
