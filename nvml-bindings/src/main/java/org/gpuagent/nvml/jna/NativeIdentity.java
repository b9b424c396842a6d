package org.gpuagent.nvml.jna;

import static org.gpuagent.nvml.jna.ReturnCodes.answered;
import static org.gpuagent.nvml.jna.ReturnCodes.check;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * Reads a device's {@link DeviceIdentity} once, when the device is opened. UUID, name and PCI bus
 * id are required (a failure is an {@link org.gpuagent.nvml.NvmlException}); brand, serial, VBIOS
 * and compute capability are absent ({@link Brand#UNKNOWN}) where the driver lacks the call or
 * does not support it. Uses buffers of its own: this is not the hot path.
 */
final class NativeIdentity {
    private NativeIdentity() {
    }

    static DeviceIdentity read(NvmlSymbolTable symbols, long handle) {
        Memory text = new Memory(NvmlNative.STRING_BUFFER_SIZE);
        long textAddress = Pointer.nativeValue(text);
        int len = NvmlNative.STRING_BUFFER_SIZE;
        Memory out = new Memory(16);
        ByteBuffer outView = out.getByteBuffer(0, out.size()).order(ByteOrder.nativeOrder());
        long outAddress = Pointer.nativeValue(out);

        check(Symbol.DEVICE_GET_UUID, NvmlNative.DeviceGetUuid.nvmlDeviceGetUUID(handle, textAddress, len));
        String uuid = string(text);
        check(Symbol.DEVICE_GET_NAME, NvmlNative.DeviceGetName.nvmlDeviceGetName(handle, textAddress, len));
        String name = string(text);

        Symbol pci = symbols.chosen(Feature.PCI_INFO);
        Memory pciInfo = new Memory(NvmlNative.PCI_INFO_SIZE + 4L);
        long pciAddress = Pointer.nativeValue(pciInfo);
        check(pci, pci == Symbol.DEVICE_GET_PCI_INFO_V3
                ? NvmlNative.DeviceGetPciInfoV3.nvmlDeviceGetPciInfo_v3(handle, pciAddress)
                : NvmlNative.DeviceGetPciInfoV2.nvmlDeviceGetPciInfo_v2(handle, pciAddress));
        String pciBusId = pciInfo.getString(NvmlNative.PCI_INFO_BUS_ID, StandardCharsets.US_ASCII.name());

        Brand brand = Brand.UNKNOWN;
        if (symbols.has(Feature.BRAND)
                && answered(NvmlNative.DeviceGetBrand.nvmlDeviceGetBrand(handle, outAddress), Symbol.DEVICE_GET_BRAND)) {
            brand = Brand.fromCode(outView.getInt(0));
        }
        Optional<String> serial = symbols.has(Feature.SERIAL)
                && answered(NvmlNative.DeviceGetSerial.nvmlDeviceGetSerial(handle, textAddress, len),
                        Symbol.DEVICE_GET_SERIAL)
                ? Optional.of(string(text)).filter(s -> !s.isBlank()) : Optional.empty();
        Optional<String> vbiosVersion = symbols.has(Feature.VBIOS_VERSION)
                && answered(NvmlNative.DeviceGetVbiosVersion.nvmlDeviceGetVbiosVersion(handle, textAddress, len),
                        Symbol.DEVICE_GET_VBIOS_VERSION)
                ? Optional.of(string(text)).filter(s -> !s.isBlank()) : Optional.empty();
        Optional<ComputeCapability> computeCapability = symbols.has(Feature.COMPUTE_CAPABILITY)
                && answered(NvmlNative.DeviceGetCudaComputeCapability.nvmlDeviceGetCudaComputeCapability(
                        handle, outAddress, outAddress + 8), Symbol.DEVICE_GET_CUDA_COMPUTE_CAPABILITY)
                ? Optional.of(new ComputeCapability(outView.getInt(0), outView.getInt(8))) : Optional.empty();
        DeviceIdentity identity = new DeviceIdentity(uuid, name, brand, pciBusId, serial, vbiosVersion,
                computeCapability);
        // The library wrote through raw addresses: keep the buffers reachable until here.
        Reference.reachabilityFence(text);
        Reference.reachabilityFence(out);
        Reference.reachabilityFence(pciInfo);
        return identity;
    }

    private static String string(Memory text) {
        return text.getString(0, StandardCharsets.UTF_8.name());
    }
}
