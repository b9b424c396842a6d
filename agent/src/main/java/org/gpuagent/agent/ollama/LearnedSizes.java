package org.gpuagent.agent.ollama;

import java.util.OptionalLong;

/**
 * What a model was seen to take the last time it was loaded ({@code size_vram} in
 * {@code /api/ps}), remembered across restarts. Keyed by model name.
 */
public interface LearnedSizes {

    OptionalLong get(String model);

    /** Remembers {@code bytes} for {@code model}; a failure to store is logged, never thrown. */
    void remember(String model, long bytes);
}
