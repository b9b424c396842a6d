package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Map;
import java.util.OptionalInt;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.TemperatureThreshold;
import org.junit.jupiter.api.Test;

class EnumReadingsTest {
    @Test
    void eachConstantHasItsOwnReadingAndTheRestAreAbsent() {
        EnumReadings<ClockType> clocks = EnumReadings.of(ClockType.class, Map.of(ClockType.SM, 1480, ClockType.VIDEO, 1366));
        assertEquals(OptionalInt.of(1480), clocks.get(ClockType.SM));
        assertEquals(OptionalInt.of(1366), clocks.get(ClockType.VIDEO));
        assertEquals(OptionalInt.empty(), clocks.get(ClockType.GRAPHICS));
        assertEquals(Map.of(ClockType.SM, 1480, ClockType.VIDEO, 1366), clocks.present());
        assertEquals("ClockType{SM=1480, VIDEO=1366}", clocks.toString());
    }

    @Test
    void equalityIsByKindAndValues() {
        assertEquals(EnumReadings.none(ClockType.class), EnumReadings.of(ClockType.class, Map.of()));
        assertEquals(EnumReadings.none(ClockType.class).hashCode(), EnumReadings.of(ClockType.class, Map.of()).hashCode());
        assertNotEquals(EnumReadings.none(ClockType.class), EnumReadings.none(TemperatureThreshold.class),
                "four absent clocks are not four absent thresholds");
        assertNotEquals(EnumReadings.none(ClockType.class), EnumReadings.of(ClockType.class, Map.of(ClockType.SM, 1)));
    }
}
