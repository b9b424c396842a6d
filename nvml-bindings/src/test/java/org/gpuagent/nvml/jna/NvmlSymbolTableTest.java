package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;
import org.junit.jupiter.api.Test;

/** Symbol resolution without a library: which function serves each feature for a given export list. */
class NvmlSymbolTableTest {

    private static Set<String> all() {
        Set<String> names = new HashSet<>();
        for (Symbol s : Symbol.values()) {
            names.add(s.cName());
        }
        return names;
    }

    @Test
    void newestFunctionWinsWhenEverythingIsExported() {
        NvmlSymbolTable t = NvmlSymbolTable.resolve(all()::contains, "test");
        assertEquals(Symbol.DEVICE_GET_MEMORY_INFO_V2, t.chosen(Feature.MEMORY));
        assertEquals(Symbol.DEVICE_GET_MEMORY_INFO, t.chosen(Feature.MEMORY_V1));
        assertEquals(Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3, t.chosen(Feature.COMPUTE_PROCESSES));
        assertEquals(Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3, t.chosen(Feature.GRAPHICS_PROCESSES));
        assertEquals(Symbol.DEVICE_GET_CURRENT_CLOCKS_EVENT_REASONS, t.chosen(Feature.CLOCK_EVENT_REASONS));
        assertEquals(Symbol.SYSTEM_GET_CUDA_DRIVER_VERSION_V2, t.chosen(Feature.CUDA_DRIVER_VERSION));
        assertEquals(Symbol.DEVICE_GET_PCI_INFO_V3, t.chosen(Feature.PCI_INFO));
        assertEquals(Symbol.EVENT_SET_WAIT_V2, t.chosen(Feature.EVENT_SET_WAIT));
        assertEquals(Symbol.DEVICE_GET_COUNT_V2, t.chosen(Feature.DEVICE_COUNT));
        assertEquals(Symbol.DEVICE_GET_HANDLE_BY_INDEX_V2, t.chosen(Feature.HANDLE_BY_INDEX));
    }

    @Test
    void eachVersionedFeatureFallsBackOneStepAtATime() {
        Set<String> names = all();
        names.remove("nvmlDeviceGetComputeRunningProcesses_v3");
        names.remove("nvmlDeviceGetCurrentClocksEventReasons");
        names.remove("nvmlDeviceGetMemoryInfo_v2");
        NvmlSymbolTable t = NvmlSymbolTable.resolve(names::contains, "test");
        assertEquals(Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2, t.chosen(Feature.COMPUTE_PROCESSES));
        assertEquals(Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3, t.chosen(Feature.GRAPHICS_PROCESSES),
                "a missing compute _v3 must not downgrade the graphics list");
        assertEquals(Symbol.DEVICE_GET_CURRENT_CLOCKS_THROTTLE_REASONS, t.chosen(Feature.CLOCK_EVENT_REASONS));
        assertEquals(Symbol.DEVICE_GET_MEMORY_INFO, t.chosen(Feature.MEMORY));

        names.remove("nvmlDeviceGetComputeRunningProcesses_v2");
        assertEquals(Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES,
                NvmlSymbolTable.resolve(names::contains, "test").chosen(Feature.COMPUTE_PROCESSES));
    }

    @Test
    void aMissingOptionalFunctionMakesOnlyItsFeatureAbsent() {
        Set<String> names = all();
        names.remove("nvmlDeviceGetTotalEnergyConsumption");
        names.remove("nvmlDeviceGetFanSpeed");
        names.remove("nvmlDeviceGetPowerManagementLimitConstraints");
        names.remove("nvmlDeviceGetPowerManagementDefaultLimit");
        NvmlSymbolTable t = NvmlSymbolTable.resolve(names::contains, "test");
        assertFalse(t.has(Feature.TOTAL_ENERGY));
        assertFalse(t.has(Feature.FAN_SPEED));
        assertFalse(t.has(Feature.POWER_LIMIT_CONSTRAINTS));
        assertFalse(t.has(Feature.DEFAULT_POWER_LIMIT));
        assertTrue(t.has(Feature.POWER_LIMIT), "the enforced limit has its own function");
        assertNull(t.chosen(Feature.TOTAL_ENERGY));
        for (Feature f : Feature.values()) {
            if (!EnumSet.of(Feature.TOTAL_ENERGY, Feature.FAN_SPEED, Feature.POWER_LIMIT_CONSTRAINTS,
                    Feature.DEFAULT_POWER_LIMIT).contains(f)) {
                assertTrue(t.has(f), f.name());
            }
        }
        assertEquals("absent", t.describe().get("total_energy"));
        assertEquals("nvmlDeviceGetTemperature", t.describe().get("temperature"));
    }

    @Test
    void aLibraryWithoutARequiredFunctionIsRefusedNamingWhatIsMissing() {
        Set<String> names = all();
        names.remove("nvmlDeviceGetMemoryInfo_v2");
        names.remove("nvmlDeviceGetMemoryInfo");
        names.remove("nvmlDeviceGetUUID");
        NvmlException e = assertThrows(NvmlException.class, () -> NvmlSymbolTable.resolve(names::contains, "/x/libnvidia-ml.so.1"));
        assertEquals(NvmlReturn.FUNCTION_NOT_FOUND, e.code());
        assertTrue(e.getMessage().contains("/x/libnvidia-ml.so.1"), e.getMessage());
        assertTrue(e.getMessage().contains("nvmlDeviceGetUUID"), e.getMessage());
        assertTrue(e.getMessage().contains("nvmlDeviceGetMemoryInfo_v2 or nvmlDeviceGetMemoryInfo"), e.getMessage());
    }

    @Test
    void walkingEachFallbackChainReachesEverySymbol() {
        Set<Symbol> reached = EnumSet.noneOf(Symbol.class);
        for (Feature f : Feature.values()) {
            Set<String> names = all();
            while (true) {
                Symbol s;
                try {
                    s = NvmlSymbolTable.resolve(names::contains, "test").chosen(f);
                } catch (NvmlException e) {
                    assertTrue(f.required(), f + " refused the library but is optional");
                    break;
                }
                if (s == null) {
                    assertFalse(f.required(), f + " went absent but is required");
                    break;
                }
                reached.add(s);
                names.remove(s.cName()); // as an older driver would lack it: the next one down takes over
            }
        }
        Set<Symbol> unreached = EnumSet.allOf(Symbol.class);
        unreached.removeAll(reached);
        assertEquals(Set.of(), unreached, "symbols no feature reaches");
    }
}
