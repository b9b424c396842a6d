package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.gpuagent.agent.ollama.ModelName;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.junit.jupiter.api.Test;

/** Model leases learn their size through the proxy only, so each model load counts once. */
class OllamaProxySetupTest {

    private static Lease held(Optional<String> holder) {
        return Lease.active(new LeaseId(1), "ollama", 1L << 30, holder, List.of(), Instant.EPOCH);
    }

    @Test
    void onlyModelLeasesLearnTheirOwnSize() {
        assertTrue(OllamaProxySetup.learnsItsOwnSize(held(Optional.of(ModelName.holder("qwen2.5:3b")))));
        assertFalse(OllamaProxySetup.learnsItsOwnSize(held(Optional.of("systemd:ollama.service"))));
        assertFalse(OllamaProxySetup.learnsItsOwnSize(held(Optional.empty())));
    }
}
