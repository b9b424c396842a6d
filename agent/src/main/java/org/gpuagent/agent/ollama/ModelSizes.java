package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.time.InstantSource;
import java.util.OptionalLong;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.agent.sizing.LearnedSizes;

/**
 * What a model was seen to take the last time it was loaded ({@code size_vram} in
 * {@code /api/ps}), remembered across restarts. Keyed by model name.
 */
public interface ModelSizes {

    OptionalLong get(String model);

    /**
     * Remembers {@code bytes} for {@code model} (called once per load and size); a failure to
     * store is logged, never thrown.
     */
    void remember(String model, long bytes);

    /**
     * The agent's durable {@link LearnedSizes} store: service {@code service}, signature
     * {@code model:<name>}; the largest kept peak is the size asked for next time. {@code recorded}
     * runs after each size kept (the daemon republishes the learned sizes' metrics).
     */
    static ModelSizes stored(LearnedSizes store, String service, InstantSource clock, Runnable recorded) {
        return new ModelSizes() {
            @Override
            public OptionalLong get(String model) {
                return store.learnedPeak(service, signature(model));
            }

            @Override
            public void remember(String model, long bytes) {
                if (bytes <= 0) {
                    return;
                }
                try {
                    store.record(service, signature(model), bytes, clock.instant());
                    recorded.run();
                } catch (IOException | IllegalArgumentException e) {
                    DaemonLog.warn("cannot remember the size of " + model + ": " + DaemonLog.describe(e));
                }
            }
        };
    }

    static String signature(String model) {
        return "model:" + model;
    }
}
