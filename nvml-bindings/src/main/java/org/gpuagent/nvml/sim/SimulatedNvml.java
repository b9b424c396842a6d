package org.gpuagent.nvml.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;

/** One NVML session over a {@link SimulatedGpuHost}; closing it invalidates its devices and event sets. */
final class SimulatedNvml implements Nvml {
    private final SimulatedGpuHost host;
    private final List<SimulatedNvmlDevice> devices;
    private final CopyOnWriteArrayList<SimulatedEventSet> eventSets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    SimulatedNvml(SimulatedGpuHost host) {
        this.host = host;
        List<SimulatedNvmlDevice> list = new ArrayList<>();
        for (SimulatedDevice d : host.devices()) {
            list.add(new SimulatedNvmlDevice(this, d));
        }
        this.devices = List.copyOf(list);
    }

    SimulatedGpuHost host() {
        return host;
    }

    void checkOpen(SimCall call) {
        if (closed) {
            throw new NvmlException(call.cName(), NvmlReturn.UNINITIALIZED, "the NVML session was shut down");
        }
    }

    @Override
    public String backend() {
        return "sim";
    }

    @Override
    public int deviceCount() {
        checkOpen(SimCall.DEVICE_COUNT);
        host.enterSystem(SimCall.DEVICE_COUNT);
        return devices.size();
    }

    @Override
    public NvmlDevice device(int index) {
        return devices.get(index);
    }

    @Override
    public List<NvmlDevice> devices() {
        return List.copyOf(devices);
    }

    @Override
    public NvmlDevice deviceByUuid(String uuid) {
        checkOpen(SimCall.HANDLE_BY_UUID);
        host.enterSystem(SimCall.HANDLE_BY_UUID);
        for (SimulatedNvmlDevice d : devices) {
            if (d.uuid().equals(uuid)) {
                if (d.hardware().isLost()) {
                    throw new NvmlException(SimCall.HANDLE_BY_UUID.cName(), NvmlReturn.GPU_IS_LOST, null);
                }
                return d;
            }
        }
        throw new NvmlException(SimCall.HANDLE_BY_UUID.cName(), NvmlReturn.NOT_FOUND, "no GPU " + uuid);
    }

    @Override
    public String driverVersion() {
        checkOpen(SimCall.DRIVER_VERSION);
        host.enterSystem(SimCall.DRIVER_VERSION);
        return host.driverVersion();
    }

    @Override
    public String nvmlVersion() {
        checkOpen(SimCall.NVML_VERSION);
        host.enterSystem(SimCall.NVML_VERSION);
        return host.nvmlVersion();
    }

    @Override
    public OptionalInt cudaDriverVersion() {
        checkOpen(SimCall.CUDA_DRIVER_VERSION);
        host.enterSystem(SimCall.CUDA_DRIVER_VERSION);
        return OptionalInt.of(host.cudaDriverVersion());
    }

    @Override
    public NvmlEventSet createEventSet() {
        checkOpen(SimCall.EVENT_SET_CREATE);
        host.enterSystem(SimCall.EVENT_SET_CREATE);
        SimulatedEventSet set = new SimulatedEventSet(this);
        eventSets.add(set);
        host.addEventSet(set);
        return set;
    }

    void eventSetClosed(SimulatedEventSet set) {
        eventSets.remove(set);
        host.removeEventSet(set);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (SimulatedEventSet set : eventSets) {
            set.close();
        }
        host.sessionClosed();
    }
}
