package org.gpuagent.agent.ollama;

import java.util.Map;
import java.util.OptionalLong;
import org.gpuagent.scheduler.ByteSize;

/**
 * How much VRAM a model not seen before will take, from what {@code /api/show} and
 * {@code /api/tags} say of it (the formula and its sources are in {@code docs/ollama.md}):
 *
 * <pre>
 * weights  = the model file's size (/api/tags "size"), else parameter_count × bits per weight / 8
 * kv cache = 2 (K and V) × block_count × context × embedding_length × head_count_kv / head_count × 2 bytes (f16)
 * estimate = 1.1 × (weights + kv cache) + 256 MiB   (compute graph and buffers; the runner's CUDA context)
 * </pre>
 *
 * A field that is missing leaves its term out (an unknown architecture gets weights + 10 % +
 * 256 MiB); the caller takes at least the configured minimum. The first load then teaches the
 * real figure ({@code size_vram}), which replaces the estimate.
 */
public final class ModelEstimate {
    /** Ollama's default context when a request sets no {@code options.num_ctx}. */
    public static final int DEFAULT_CONTEXT = 4096;
    static final long FIXED_OVERHEAD = 256 * ByteSize.MIB;

    private ModelEstimate() {
    }

    /**
     * @param show     the {@code /api/show} answer
     * @param fileSize the model's file size, when {@code /api/tags} lists it
     * @param context  the context length the request asks for
     * @return the estimate; empty when neither the weights nor the parameter count are known
     */
    public static OptionalLong of(Map<String, Object> show, OptionalLong fileSize, int context) {
        Map<?, ?> info = show.get("model_info") instanceof Map<?, ?> m ? m : Map.of();
        Map<?, ?> details = show.get("details") instanceof Map<?, ?> m ? m : Map.of();
        String arch = info.get("general.architecture") instanceof String s ? s : "";
        long weights;
        if (fileSize.isPresent()) {
            weights = fileSize.getAsLong();
        } else {
            long params = number(info, "general.parameter_count");
            if (params <= 0) {
                return OptionalLong.empty();
            }
            weights = (long) (params * bitsPerWeight(details.get("quantization_level")) / 8);
        }
        long layers = number(info, arch + ".block_count");
        long embedding = number(info, arch + ".embedding_length");
        long heads = number(info, arch + ".attention.head_count");
        long kvHeads = number(info, arch + ".attention.head_count_kv");
        long maxContext = number(info, arch + ".context_length");
        long ctx = maxContext > 0 ? Math.min(context, maxContext) : context;
        long kv = 0;
        if (layers > 0 && embedding > 0) {
            double share = heads > 0 && kvHeads > 0 ? (double) kvHeads / heads : 1.0;
            kv = (long) (2.0 * layers * ctx * embedding * share * 2);
        }
        return OptionalLong.of((long) (1.1 * (weights + kv)) + FIXED_OVERHEAD);
    }

    /** Bits per weight of a GGUF quantization (llama.cpp's block sizes); 16 when unknown. */
    static double bitsPerWeight(Object quantization) {
        String q = quantization instanceof String s ? s.toUpperCase(java.util.Locale.ROOT) : "";
        if (q.startsWith("Q2")) {
            return 3.35;
        } else if (q.startsWith("Q3")) {
            return 4.0;
        } else if (q.startsWith("Q4")) {
            return 4.85;
        } else if (q.startsWith("Q5")) {
            return 5.7;
        } else if (q.startsWith("Q6")) {
            return 6.6;
        } else if (q.startsWith("Q8")) {
            return 8.5;
        } else if (q.equals("F32")) {
            return 32;
        }
        return 16;
    }

    private static long number(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : 0;
    }
}
