package org.gpuagent.agent.api;

import static org.gpuagent.agent.api.ApiRig.GIB;
import static org.gpuagent.agent.api.ApiRig.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.gpuagent.scheduler.LeaseId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code PATCH /v1/leases/{id}} end to end, over HTTP. */
class LeaseResizeApiTest {
    @TempDir
    Path dir;
    ApiRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = ApiRig.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> lease(ApiRig.Reply r) throws Exception {
        return (Map<String, Object>) JSON.std.mapFrom(r.body()).get("lease");
    }

    private long admit(String service, String bytes) throws Exception {
        ApiRig.Reply r = rig.call("POST", "/v1/leases", "{\"service\":\"" + service + "\",\"bytes\":\"" + bytes
                + "\",\"holder\":\"h-" + service + "\"}");
        assertEquals(201, r.status(), r.body());
        return ((Number) lease(r).get("id")).longValue();
    }

    @Test
    void growingAndShrinkingKeepTheLeaseAndAnswer200() throws Exception {
        long id = admit("ollama", "1GiB");
        ApiRig.Reply grown = rig.call("PATCH", "/v1/leases/" + id, "{\"bytes\":\"2GiB\"}");
        assertEquals(200, grown.status(), grown.body());
        Map<String, Object> l = lease(grown);
        assertEquals(id, ((Number) l.get("id")).longValue());
        assertEquals(2 * GIB, ((Number) l.get("bytes")).longValue());
        assertEquals("h-ollama", l.get("holder"));
        assertEquals(List.of(), JSON.std.mapFrom(grown.body()).get("preempted"));
        assertEquals(2 * GIB, rig.ledger.view().lease(new LeaseId(id)).orElseThrow().bytes());

        ApiRig.Reply shrunk = rig.call("PATCH", "/v1/leases/" + id, "{\"bytes\":" + (512 * MIB) + "}");
        assertEquals(200, shrunk.status(), shrunk.body());
        assertEquals(512 * MIB, ((Number) lease(shrunk).get("bytes")).longValue());
        assertEquals(l.get("grantedAt"), lease(shrunk).get("grantedAt"));
    }

    @Test
    void aGrowthThatDoesNotFitIs409WithItsSentence() throws Exception {
        admit("frigate", "3GiB");
        long id = admit("jellyfin", "512MiB");
        ApiRig.Reply r = rig.call("PATCH", "/v1/leases/" + id, "{\"bytes\":\"2GiB\"}");
        assertEquals(409, r.status(), r.body());
        Map<String, Object> m = JSON.std.mapFrom(r.body());
        assertEquals("insufficient_vram", m.get("error"));
        assertTrue(((String) m.get("message")).startsWith("growing jellyfin lease " + id + " to 2 GiB: "),
                r.body());
        assertEquals(512 * MIB, rig.ledger.view().lease(new LeaseId(id)).orElseThrow().bytes(), "unchanged");
    }

    @Test
    void anUnknownLeaseIs404AndABadBodyIs400() throws Exception {
        ApiRig.Reply unknown = rig.call("PATCH", "/v1/leases/77", "{\"bytes\":\"1GiB\"}");
        assertEquals(404, unknown.status(), unknown.body());
        assertEquals("no_such_lease", JSON.std.mapFrom(unknown.body()).get("error"));
        long id = admit("ollama", "1GiB");
        for (String body : List.of("{}", "{\"bytes\":0}", "{\"bytes\":\"lots\"}", "{\"bytes\":1,\"service\":\"x\"}",
                "{\"bytes\":1,\"waitMs\":-1}", "[1]")) {
            ApiRig.Reply r = rig.call("PATCH", "/v1/leases/" + id, body);
            assertEquals(400, r.status(), body + " -> " + r.body());
            FuzzOracle.check(r.status(), r.body().getBytes(java.nio.charset.StandardCharsets.UTF_8), body);
        }
    }
}
