package org.gpuagent.agent.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.scheduler.ByteSize;
import org.junit.jupiter.api.Test;

/** The proxy's pure rules: model names, the size estimate, splitting observed use, what unloads. */
class ModelRulesTest {
    private static final long MIB = ByteSize.MIB;

    @Test
    void modelNamesAreCheckedLikeHolders() {
        assertTrue(ModelName.problem("llama3.2:3b").isEmpty());
        assertTrue(ModelName.problem("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M").isEmpty());
        assertTrue(ModelName.problem("").isPresent());
        assertTrue(ModelName.problem("x".repeat(257)).isPresent());
        assertTrue(ModelName.problem("a b").isPresent());
        assertTrue(ModelName.problem("a\nb").isPresent());
        assertTrue(ModelName.problem("../x").isPresent());
        assertTrue(ModelName.problem("-rf").isPresent());
        assertFalse(ModelName.problem("a\u0000").get().contains("\u0000"), "the message shows no control character");
        assertEquals("llama3.2:latest", ModelName.canonical("llama3.2"));
        assertEquals("ns/m:latest", ModelName.canonical("ns/m"));
        assertEquals("host:5000/ns/m:latest", ModelName.canonical("host:5000/ns/m"));
        assertEquals("m:q4", ModelName.canonical("m:q4"));
        assertEquals(Optional.of("m:q4"), ModelName.ofHolder(ModelName.holder("m:q4")));
    }

    /** llama3.2:3b (Q4_K_M, 2.0 GB file; 28 layers, 3072 wide, 24 heads, 8 KV heads) at 4096 tokens. */
    @Test
    void theEstimateFollowsTheDocumentedFormula() {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("general.architecture", "llama");
        info.put("general.parameter_count", 3_212_749_888L);
        info.put("llama.block_count", 28);
        info.put("llama.embedding_length", 3072);
        info.put("llama.attention.head_count", 24);
        info.put("llama.attention.head_count_kv", 8);
        info.put("llama.context_length", 131072);
        Map<String, Object> show = Map.of("model_info", info, "details", Map.of("quantization_level", "Q4_K_M"));
        long file = 2_019_377_376L;
        long kv = 2L * 28 * 4096 * 3072 / 3 * 2; // 448 MiB of f16 K and V
        assertEquals(448 * MIB, kv);
        assertEquals(OptionalLong.of((long) (1.1 * (file + kv)) + 256 * MIB),
                ModelEstimate.of(show, OptionalLong.of(file), 4096));
        // without the file size: parameters × 4.85 bits
        long weights = (long) (3_212_749_888L * 4.85 / 8);
        assertEquals(OptionalLong.of((long) (1.1 * (weights + kv)) + 256 * MIB),
                ModelEstimate.of(show, OptionalLong.empty(), 4096));
        // a context beyond the model's own is capped to it; nothing known: no estimate
        assertEquals(ModelEstimate.of(show, OptionalLong.of(file), 131072),
                ModelEstimate.of(show, OptionalLong.of(file), 1 << 20));
        assertEquals(OptionalLong.empty(), ModelEstimate.of(Map.of(), OptionalLong.empty(), 4096));
    }

    @Test
    void eachModelLeaseIsGivenWhatApiPsShowsFromTheServicesOtherUse() {
        Map<Optional<String>, Long> use = new LinkedHashMap<>();
        use.put(Optional.of("systemd:ollama.service"), 3000 * MIB);
        Map<Optional<String>, Long> split = ModelUse.split(use, Map.of("ollama-model:a", 1200 * MIB,
                "ollama-model:b", 1000 * MIB));
        assertEquals(800 * MIB, split.get(Optional.of("systemd:ollama.service")));
        assertEquals(1200 * MIB, split.get(Optional.of("ollama-model:a")));
        assertEquals(1000 * MIB, split.get(Optional.of("ollama-model:b")));

        // never more than there is; the holderless share goes first; what is attributed stays
        Map<Optional<String>, Long> little = new LinkedHashMap<>();
        little.put(Optional.of("systemd:ollama.service"), 100 * MIB);
        little.put(Optional.empty(), 300 * MIB);
        little.put(Optional.of("ollama-model:a"), 200 * MIB);
        Map<Optional<String>, Long> s = ModelUse.split(little, Map.of("ollama-model:a", 1000 * MIB));
        assertEquals(0L, s.get(Optional.empty()));
        assertEquals(0L, s.get(Optional.of("systemd:ollama.service")));
        assertEquals(600 * MIB, s.get(Optional.of("ollama-model:a")));
        assertEquals(600 * MIB, s.values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void onlyKeepAliveZeroWithNothingToGenerateUnloads() {
        assertTrue(OllamaProxy.unloads(Map.of("model", "m", "keep_alive", 0)));
        assertTrue(OllamaProxy.unloads(Map.of("model", "m", "keep_alive", "0s", "messages", java.util.List.of())));
        assertFalse(OllamaProxy.unloads(Map.of("model", "m", "keep_alive", 0, "prompt", "hi")));
        assertFalse(OllamaProxy.unloads(Map.of("model", "m", "keep_alive", "5m")));
        assertFalse(OllamaProxy.unloads(Map.of("model", "m")));
        assertEquals(8192, OllamaProxy.context(Map.of("options", Map.of("num_ctx", 8192))));
        assertEquals(4096, OllamaProxy.context(Map.of("options", Map.of("num_ctx", -1))));
        assertEquals(4096, OllamaProxy.context(Map.of()));
    }
}
