package org.gpuagent.agent.api;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the {@code POST /v1/leases} body parser: any bytes give a request or
 * a 400 with a message, nothing else (no other exception, no stack overflow, no out-of-memory, no
 * core held: each input is decided in bounded time). Seeds in {@code LeaseRequestFuzzTestInputs/}.
 * Run as a regression test over the seeds in every build, fuzzed for a fixed time by the
 * {@code fuzz} executions (see the agent's pom).
 */
class LeaseRequestFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void requestBody(byte[] body) {
        try {
            LeaseRequestParser.parse(body, ApiServer.MAX_WAIT);
        } catch (ApiError e) {
            if (e.status() != 400 || !e.code().equals("bad_request") || e.getMessage() == null
                    || e.getMessage().isBlank()) {
                throw new AssertionError("not a 400 with a message: " + e.status() + " " + e.getMessage());
            }
            FuzzOracle.check(e.status(), ApiExchange.json(e.body()), "parser");
        }
    }
}
