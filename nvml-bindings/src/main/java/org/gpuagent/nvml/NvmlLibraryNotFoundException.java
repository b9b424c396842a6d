package org.gpuagent.nvml;

import java.util.List;

/** No libnvidia-ml could be loaded from any of the places tried; the message names each one and why it failed. */
public final class NvmlLibraryNotFoundException extends NvmlException {
    private static final long serialVersionUID = 1L;

    private final List<String> tried;

    public NvmlLibraryNotFoundException(List<String> tried) {
        super("dlopen(libnvidia-ml)", NvmlReturn.LIBRARY_NOT_FOUND,
                "no NVML library could be loaded; tried: " + String.join("; ", tried));
        this.tried = List.copyOf(tried);
    }

    /** One entry per place tried, each "place (reason)". */
    public List<String> tried() {
        return tried;
    }
}
