package org.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.gpuagent.agent.api.ApiServer;
import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void responseTimeLimitOutlastsTheLongestAdmissionWait() {
        assertEquals(ApiServer.MAX_WAIT.toSeconds() + 120, Main.MAX_RESPONSE_SECONDS);
    }
}
