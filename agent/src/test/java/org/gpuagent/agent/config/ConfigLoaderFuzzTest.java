package org.gpuagent.agent.config;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the configuration loader: any bytes (up to the loader's 1 MiB) give
 * a configuration or problems, each with a one-line message; no other exception, no stack
 * overflow. Seeds in {@code ConfigLoaderFuzzTestInputs/}: the shipped and documented configurations.
 */
class ConfigLoaderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void yaml(byte[] bytes) {
        try {
            ConfigLoader.parse(ConfigLoader.utf8(bytes, "fuzz.yaml"), "fuzz.yaml");
        } catch (ConfigException e) {
            if (e.problems().isEmpty()) {
                throw new AssertionError("a refusal without a problem");
            }
            for (ConfigProblem p : e.problems()) {
                if (p.message() == null || p.message().isBlank() || p.toString().contains("\n\tat ")) {
                    throw new AssertionError("a problem without a one-line message: " + p);
                }
            }
        }
    }
}
