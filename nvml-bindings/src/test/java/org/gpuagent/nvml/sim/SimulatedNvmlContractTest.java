package org.gpuagent.nvml.sim;

import java.util.Map;
import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * The contract over the simulated P1000 in the scenario every backend shares: a Frigate detector
 * (pid 4242, 512 MiB) and a Jellyfin ffmpeg (pid 4343, 300 MiB), both counted with their CUDA
 * context, busy enough that utilization, encoder sessions and clocks are not at their idle values.
 */
class SimulatedNvmlContractTest extends NvmlContractTest {
    private final ManualTime time = new ManualTime();
    private final SimulatedGpuHost host = SimulatedGpuHost.create(2, time, GpuProfile.QUADRO_P1000);

    SimulatedNvmlContractTest() {
        SimulatedDevice gpu = host.device(0);
        long context = gpu.profile().memory().contextCostBytes();
        for (Map.Entry<Integer, Long> e : ExpectedGpu.QUADRO_P1000.computeProcesses().entrySet()) {
            SimProcess p = gpu.startProcess(e.getKey(), e.getKey() == 4242 ? "frigate.detector" : "jellyfin-ffmpeg");
            p.allocate(e.getValue() - context);
        }
        gpu.process(4242).orElseThrow().setLoad(35, 0, 20);
        gpu.process(4343).orElseThrow().setLoad(10, 40, 30);
        time.advanceSeconds(30);
    }

    @Override
    protected Nvml open() {
        return host.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.of(ExpectedGpu.QUADRO_P1000);
    }
}
