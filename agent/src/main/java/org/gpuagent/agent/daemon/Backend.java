package org.gpuagent.agent.daemon;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Optional;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.jna.NativeNvml;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedGpuHost;

/**
 * Where the GPU data comes from: NVML (libnvidia-ml through JNA) or the simulated Quadro P1000.
 *
 * @param name        {@code nvml} or {@code sim}
 * @param description the one log line saying which and why
 * @param simulator   the simulated host, on the {@code sim} backend
 */
public record Backend(String name, NvmlOpener opener, String description, Optional<SimulatedGpuHost> simulator) {

    /** What {@code --backend} asks for. */
    public enum Choice {
        AUTO, NVML, SIM;

        public static Choice parse(String text) {
            try {
                return valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown backend '" + text + "' (auto, nvml or sim)");
            }
        }
    }

    /** The backend cannot be used (NVML asked for and not loadable); the message is one line. */
    public static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Seed of the simulated GPU's noise: fixed, so two runs of the simulator read alike. */
    static final long SIM_SEED = 1000;

    /**
     * @param library a configured libnvidia-ml file: then only that file is tried (else the
     *                usual places: the loader's path, /run/opengl-driver/lib, /usr/lib/..., ...)
     */
    public static Backend choose(Choice choice, Optional<Path> library, InstantSource clock)
            throws UnavailableException {
        if (choice == Choice.SIM) {
            return simulated(clock, "simulated Quadro P1000 (--backend sim)");
        }
        NvmlLibraryLocator locator = library.map(NvmlLibraryLocator::exactly)
                .orElseGet(() -> NvmlLibraryLocator.defaults(Optional.empty()));
        try (NativeNvml probe = NativeNvml.open(locator)) {
            String where = probe.libraryLocation();
            String what = probe.deviceCount() + " GPU" + (probe.deviceCount() == 1 ? "" : "s") + ", driver "
                    + probe.driverVersion();
            return new Backend("nvml", NativeNvml.opener(locator), "NVML from " + where + " (" + what + ")",
                    Optional.empty());
        } catch (NvmlLibraryNotFoundException e) {
            if (choice == Choice.NVML) {
                throw new UnavailableException("--backend nvml: " + e.getMessage(), e);
            }
            return simulated(clock, "simulated Quadro P1000, because no NVML library loads (" + e.getMessage()
                    + "); use --backend nvml to insist on a GPU");
        } catch (NvmlException e) {
            if (choice == Choice.NVML) {
                throw new UnavailableException("--backend nvml: NVML loads but does not initialise: "
                        + e.getMessage(), e);
            }
            return simulated(clock, "simulated Quadro P1000, because NVML loads but does not initialise ("
                    + e.getMessage() + "); use --backend nvml to insist on a GPU");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            if (choice == Choice.NVML) {
                throw new UnavailableException("--backend nvml: JNA cannot load NVML: " + e.getMessage(), e);
            }
            return simulated(clock, "simulated Quadro P1000, because JNA cannot load NVML (" + e.getMessage() + ")");
        }
    }

    private static Backend simulated(InstantSource clock, String why) {
        SimulatedGpuHost host = SimulatedGpuHost.create(SIM_SEED, clock, GpuProfile.QUADRO_P1000);
        return new Backend("sim", host, why, Optional.of(host));
    }
}
