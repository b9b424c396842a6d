package org.gpuagent.agent.ollama;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Splits the Ollama service's observed use among its model leases. On a real GPU every runner
 * process belongs to Ollama's unit or container, so the sampler sees the service's use but not
 * which model has it; {@code /api/ps} says what each loaded model takes ({@code size_vram}). Each
 * model holder is given what {@code /api/ps} shows for it, taken from the service's other use
 * (the holderless share first, then the largest holder's), never more than there is; what is left
 * stays where it was: the runner's own overhead, on the service lease. Without the split, a model
 * lease and the service's observed use would count the same memory twice.
 */
public final class ModelUse {
    private ModelUse() {
    }

    /**
     * @param use        one service's observed bytes by holder (empty: no holder)
     * @param modelBytes the bytes {@code /api/ps} shows per model holder ({@code ollama-model:<name>})
     * @return the same total, with each model holder given up to its bytes
     */
    public static Map<Optional<String>, Long> split(Map<Optional<String>, Long> use, Map<String, Long> modelBytes) {
        Map<Optional<String>, Long> out = new LinkedHashMap<>(use);
        for (Map.Entry<String, Long> m : modelBytes.entrySet()) {
            Optional<String> holder = Optional.of(m.getKey());
            long need = m.getValue() - out.getOrDefault(holder, 0L);
            if (need <= 0) {
                continue;
            }
            List<Optional<String>> donors = new ArrayList<>();
            for (Optional<String> h : out.keySet()) {
                if (!h.map(x -> x.startsWith(ModelName.HOLDER_PREFIX)).orElse(false)) {
                    donors.add(h);
                }
            }
            donors.sort(Comparator.<Optional<String>, Boolean>comparing(Optional::isPresent)
                    .thenComparing(h -> -out.get(h)));
            for (Optional<String> d : donors) {
                long take = Math.min(need, out.get(d));
                if (take > 0) {
                    out.put(d, out.get(d) - take);
                    out.merge(holder, take, Long::sum);
                    need -= take;
                }
                if (need == 0) {
                    break;
                }
            }
        }
        return out;
    }
}
