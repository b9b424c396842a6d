package org.gpuagent.agent.api;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the API's request handling in this JVM, behind the HTTP layer: a
 * method, a path, a query, headers (the right token or not) and a body, chosen by the fuzzer, go to
 * the handler over a journal-less ledger; every answer must satisfy {@link FuzzOracle}. The client
 * is gone as soon as it is asked (so a request that would wait is withdrawn at once), and a grant
 * is delivered or not as the input says: either way, after each input, every lease is released.
 */
class ApiHandlerFuzzTest {
    private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS");
    private static final List<String> PATHS = List.of("/v1/leases", "/v1/leases/1", "/v1/leases/", "/v1/status",
            "/v1", "/v1/", "/", "/metrics", "/v1/leases/0", "/v1/leases/-1", "/v1/leases/9223372036854775807");
    private static Path dir;
    private static ApiRig rig;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("api-fuzz");
        rig = ApiRig.start(dir);
    }

    @AfterAll
    static void stop() throws IOException {
        rig.close();
        ApiRig.deleteTree(dir);
    }

    @FuzzTest(maxDuration = "30s")
    void request(FuzzedDataProvider data) {
        String method = data.consumeBoolean() ? data.pickValue(METHODS) : data.consumeString(8);
        String path = data.consumeBoolean() ? data.pickValue(PATHS) : "/v1/" + data.consumeString(40);
        String query = data.consumeBoolean() ? data.consumeString(60) : null;
        Map<String, List<String>> headers = new LinkedHashMap<>();
        switch (data.consumeInt(0, 3)) {
            case 0 -> headers.put("authorization", List.of("Bearer " + rig.token));
            case 1 -> headers.put("authorization", List.of(data.consumeString(80)));
            case 2 -> headers.put("authorization", List.of("Bearer " + rig.token, "Bearer x"));
            default -> { }
        }
        if (data.consumeBoolean()) {
            headers.put(data.consumeString(20).toLowerCase(Locale.ROOT), List.of(data.consumeString(40)));
        }
        boolean delivered = data.consumeBoolean();
        byte[] body = data.consumeRemainingAsBytes();
        ApiExchange.Response r = rig.api.handle(new ApiExchange.Request(method, path, query, headers, body, () -> true));
        try {
            FuzzOracle.check(r.status(), r.body(), method + " " + path + "?" + query);
            if (r.status() == 201 && !delivered) {
                r.undelivered().run();
            }
        } finally {
            rig.releaseAll();
        }
    }
}
