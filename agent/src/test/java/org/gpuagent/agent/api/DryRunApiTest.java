package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.gpuagent.scheduler.LedgerView;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /v1/leases?dryRun=true} end to end: the decision, and nothing changed. */
class DryRunApiTest {
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

    @Test
    void aPreemptionIsAnsweredWithItsVictimsAndNothingChanges() throws Exception {
        ApiRig.Reply ollama = rig.call("POST", "/v1/leases", "{\"service\":\"ollama\",\"bytes\":\"3GiB\"}");
        assertEquals(201, ollama.status(), ollama.body());
        LedgerView before = rig.ledger.view();

        ApiRig.Reply r = rig.call("POST", "/v1/leases?dryRun=true", "{\"service\":\"frigate\",\"bytes\":\"2GiB\"}");

        assertEquals(200, r.status(), r.body());
        Map<String, Object> m = JSON.std.mapFrom(r.body());
        assertEquals(true, m.get("dryRun"));
        assertEquals("preempt", m.get("decision"));
        assertEquals(List.of(1), m.get("preempted"));
        assertEquals(List.of("ollama"), m.get("preemptedServices"));
        assertTrue(m.get("deadline") instanceof String, r.body());
        assertTrue(((String) m.get("message")).contains("preempting ollama lease 1"), r.body());
        assertSame(before, rig.ledger.view(), "no change was published");
        FuzzOracle.check(r.status(), r.body().getBytes(StandardCharsets.UTF_8), "dry run");
    }

    @Test
    void admitDenyAndErrors() throws Exception {
        Map<String, Object> admit = JSON.std.mapFrom(rig.call("POST", "/v1/leases?dryRun=true",
                "{\"service\":\"jellyfin\"}").body());
        assertEquals("admit", admit.get("decision"));
        assertEquals(0L, rig.leaseCount());
        assertEquals(201, rig.call("POST", "/v1/leases?dryRun=false", "{\"service\":\"frigate\",\"bytes\":\"3GiB\"}")
                .status(), "dryRun=false admits");
        Map<String, Object> deny = JSON.std.mapFrom(rig.call("POST", "/v1/leases?dryRun=true",
                "{\"service\":\"jellyfin\",\"bytes\":\"2GiB\"}").body());
        assertEquals("deny", deny.get("decision"));
        assertEquals("insufficient_vram", deny.get("reason"));
        assertEquals(404, rig.call("POST", "/v1/leases?dryRun=true", "{\"service\":\"plex\"}").status());
        assertEquals(400, rig.call("POST", "/v1/leases?dryRun=maybe", "{\"service\":\"jellyfin\"}").status());
        assertEquals(400, rig.call("POST", "/v1/leases?dryRun=true", "{\"service\":\"jellyfin\",\"x\":1}").status());
        assertEquals(1L, rig.leaseCount());
    }
}
