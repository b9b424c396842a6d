package org.gpuagent.agent.api;

import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.scheduler.LeaseId;

/** What the API asks of the agent's sizing: how big an {@code "auto"} lease is, and which lease did what work. */
public interface LeaseSizer {
    /** Sizes nothing (an {@code auto} lease gets the service's request) and learns nothing. */
    LeaseSizer NONE = new LeaseSizer() {
        @Override
        public OptionalLong autoBytes(String service, Optional<String> signature) {
            return OptionalLong.empty();
        }

        @Override
        public void granted(LeaseId lease, String signature) {
        }
    };

    /** The bytes for {@code "bytes":"auto"}; empty: the service's request. Must be quick. */
    OptionalLong autoBytes(String service, Optional<String> signature);

    /** {@code lease} was granted for work of {@code signature}. Must be quick. */
    void granted(LeaseId lease, String signature);
}
