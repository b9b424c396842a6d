package org.gpuagent.agent.ollama;

import static org.gpuagent.agent.ollama.ProxyRig.LARGE;
import static org.gpuagent.agent.ollama.ProxyRig.MIB;
import static org.gpuagent.agent.ollama.ProxyRig.SMALL;
import static org.gpuagent.agent.ollama.ProxyRig.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import org.gpuagent.agent.ollama.FakeOllama.Model;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy against {@link FakeOllama} on a simulated P1000, as the "done when" lists. */
class OllamaProxyTest {
    private ProxyRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new ProxyRig(Duration.ofSeconds(10), Duration.ofMillis(500));
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    /** 1.1 × (file + KV cache at 4096 tokens) + 256 MiB, as ModelEstimate documents. */
    private static long estimate(Model m) {
        long kv = 2L * m.blocks() * 4096 * m.embedding() * m.kvHeads() / m.heads() * 2;
        return (long) (1.1 * (m.fileSize() + kv)) + 256 * MIB;
    }

    @Test
    void twoModelsOfDifferentSizesGetLeasesSizedByTheirEstimateThenResizedToWhatTheyTake() throws Exception {
        assertEquals(200, rig.generate(SMALL.name()).statusCode());
        assertEquals(200, rig.generate(LARGE.name()).statusCode());

        assertEquals(List.of(estimate(SMALL)), rig.grantedSizes(SMALL.name()));
        assertEquals(List.of(estimate(LARGE)), rig.grantedSizes(LARGE.name()));
        assertEquals("ollama", rig.modelLease(LARGE.name()).orElseThrow().service());
        assertTrue(rig.ollama.isLoaded(SMALL.name()) && rig.ollama.isLoaded(LARGE.name()));
        await("the leases follow size_vram", () -> rig.modelLease(SMALL.name()).orElseThrow().bytes()
                == SMALL.sizeVram() && rig.modelLease(LARGE.name()).orElseThrow().bytes() == LARGE.sizeVram());
    }

    @Test
    void aRequestForALoadedModelTakesNoSecondLease() throws Exception {
        rig.generate(SMALL.name());
        Lease first = rig.modelLease(SMALL.name()).orElseThrow();
        assertEquals(200, rig.generate(SMALL.name()).statusCode());
        assertEquals(List.of(first.id()), rig.modelLeases().stream().map(Lease::id).toList());
    }

    @Test
    void frigateAdmissionPreemptsOnlyTheLeastRecentlyUsedModel() throws Exception {
        rig.generate(SMALL.name());
        rig.generate(LARGE.name());
        // large is now the most recently used and small the least, though small is the older
        // lease: newest-evicted-first alone would pick large
        rig.generate(LARGE.name());
        // 4 GiB − 192 MiB budget; both models hold about 2.2 GiB; Frigate's 2000 MiB needs one gone
        org.gpuagent.scheduler.LedgerView before = rig.view();
        Decision.Final d = rig.ledger.request(AdmissionRequest.of("frigate").withBytes(2000 * MIB)
                .withHolder("systemd:frigate.service").withWait(Duration.ofSeconds(10))).outcome().get();

        Decision.AdmittedAfterPreemption a = assertInstanceOf(Decision.AdmittedAfterPreemption.class, d);
        assertEquals(List.of(Optional.of(ModelName.holder(SMALL.name()))),
                a.victims().stream().map(Lease::holder).toList(), a.sentence() + "; before: committed "
                + before.committedBytes() / MIB + " MiB, unattributed " + before.unattributedBytes() / MIB
                + " MiB, services " + before.services() + ", leases " + before.leases());
        assertEquals(List.of(SMALL.name()), rig.ollama.unloads);
        assertTrue(rig.ollama.isLoaded(LARGE.name()));
        await("the proxy forgets the unloaded model's lease", () -> rig.proxy.leases().leased().keySet()
                .equals(java.util.Set.of(LARGE.name())));
    }

    @Test
    void aModelBeingUnloadedForFrigateIsNotLoadedAgainMeanwhile() throws Exception {
        rig.generate(SMALL.name());
        rig.generate(LARGE.name());
        rig.generate(LARGE.name());
        CountDownLatch unload = new CountDownLatch(1);
        rig.ollama.holdUnload = unload;
        java.util.concurrent.CompletableFuture<Decision.Final> frigate = rig.ledger.request(AdmissionRequest
                .of("frigate").withBytes(2000 * MIB).withHolder("systemd:frigate.service")
                .withWait(Duration.ofSeconds(10))).outcome();
        await("small's lease is being evicted", () -> rig.modelLease(SMALL.name())
                .map(l -> l.state() == org.gpuagent.scheduler.LeaseState.EVICTING).orElse(false));

        HttpResponse<String> r = rig.generate(SMALL.name());

        assertEquals(503, r.statusCode(), r.body());
        assertEquals("5", r.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(r.body().contains("being unloaded to make room"), r.body());
        unload.countDown();
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, frigate.get());
    }

    @Test
    void theOllamaServiceLeaseShrinksToTheRunnersOwnOverhead() throws Exception {
        // Ollama's unit admitted for "Ollama and its models" before the proxy took over the models
        Lease service = assertInstanceOf(Decision.Admitted.class, rig.ledger.request(AdmissionRequest.of("ollama")
                .withBytes(1500 * MIB).withHolder("systemd:ollama.service")).outcome().get()).lease();
        long overhead = rig.run("ollama", "systemd:ollama.service", 100 * MIB).usedBytes();
        rig.generate(SMALL.name());

        await("the service lease is shrunk to what its processes use", () -> rig.view().lease(service.id())
                .map(Lease::bytes).orElse(0L) == overhead);
        await("the model keeps its own lease, at what it takes", () -> rig.modelLease(SMALL.name())
                .map(Lease::bytes).orElse(0L) == SMALL.sizeVram());
    }

    @Test
    void ndjsonAndSseStreamThroughByteForByte() throws Exception {
        for (String[] call : new String[][] {
                {"/api/generate", "{\"model\":\"small:1b\",\"prompt\":\"hi\"}"},
                {"/api/chat", "{\"model\":\"small:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
                {"/v1/chat/completions", "{\"model\":\"small:1b\",\"stream\":true,\"messages\":[]}"}}) {
            HttpResponse<byte[]> direct = rig.client.send(json(rig.ollama.base().resolve(call[0]), call[1]),
                    HttpResponse.BodyHandlers.ofByteArray());
            HttpResponse<byte[]> proxied = rig.client.send(json(rig.proxyUri(call[0]), call[1]),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, proxied.statusCode(), call[0]);
            assertEquals(new String(direct.body(), StandardCharsets.UTF_8),
                    new String(proxied.body(), StandardCharsets.UTF_8), call[0]);
            assertEquals(direct.headers().firstValue("Content-Type"), proxied.headers().firstValue("Content-Type"));
        }
    }

    @Test
    void theFirstChunkArrivesBeforeOllamaHasFinished() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        rig.ollama.holdLastChunk = hold;
        HttpResponse<InputStream> r = rig.client.send(json(rig.proxyUri("/api/generate"),
                "{\"model\":\"small:1b\",\"prompt\":\"hi\"}"), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            // Ollama holds its last chunk until the latch opens: this line can only come streamed
            Map<String, Object> first = JSON.std.mapFrom(in.readLine());
            assertEquals("Hel", first.get("response"));
            assertEquals(1, hold.getCount());
            hold.countDown();
            long rest = in.lines().count();
            assertEquals(rig.ollama.tokens.size(), rest);
        }
    }

    @Test
    void aDenialIs503WithRetryAfterAndTheLedgersSentence() throws Exception {
        rig.close();
        rig = new ProxyRig(Duration.ZERO, Duration.ofMillis(500));
        Decision.Final held = rig.ledger.request(AdmissionRequest.of("frigate").withBytes(3200 * MIB)
                .withHolder("systemd:frigate.service")).outcome().get();
        assertTrue(held.admitted());

        HttpResponse<String> r = rig.generate(LARGE.name());

        assertEquals(503, r.statusCode());
        assertTrue(r.headers().firstValue("Retry-After").orElseThrow().matches("[1-9][0-9]*"));
        Map<String, Object> body = JSON.std.mapFrom(r.body());
        assertEquals(List.of("error"), List.copyOf(body.keySet()));
        String sentence = (String) body.get("error");
        assertTrue(sentence.startsWith("ollama needs "), sentence);
        assertTrue(sentence.contains("free"), sentence);
        assertTrue(rig.modelLeases().isEmpty());
        assertFalse(rig.ollama.requests.contains("POST /api/generate"), "nothing reached Ollama");
    }

    @Test
    void aModelsMemoryIsLearnedOnItsFirstLoadAndAskedForOnTheSecond() throws Exception {
        rig.generate(LARGE.name());
        assertEquals(List.of(estimate(LARGE)), rig.grantedSizes(LARGE.name()));
        await("the poll learns size_vram", () -> rig.sizes.learnedPeak("ollama", "model:" + LARGE.name())
                .equals(OptionalLong.of(LARGE.sizeVram())));
        // unloading through the proxy ({"keep_alive": 0}) asks for nothing; the poll then releases
        assertEquals(200, rig.post(rig.proxyUri("/api/generate"), "{\"model\":\"large:3b\",\"keep_alive\":0}")
                .statusCode());
        await("the lease follows the unloaded model", () -> rig.modelLease(LARGE.name()).isEmpty());

        rig.generate(LARGE.name());

        assertEquals(List.of(estimate(LARGE), LARGE.sizeVram()), rig.grantedSizes(LARGE.name()));
    }

    @Test
    void aRestartLosesNoLeaseAndReconcilesWithApiPs() throws Exception {
        rig.generate(SMALL.name());
        rig.generate(LARGE.name());
        List<Lease> before = rig.modelLeases();

        rig.stopAgent();
        rig.start();

        assertEquals(before.stream().map(Lease::id).toList(), rig.modelLeases().stream().map(Lease::id).toList());
        assertEquals(java.util.Set.of(SMALL.name(), LARGE.name()), rig.proxy.leases().leased().keySet());
        // Ollama unloads a model by itself (keep_alive ran out) while the agent looks on
        rig.ollama.unload(SMALL.name());
        await("the adopted lease of the unloaded model is released", () -> rig.modelLease(SMALL.name()).isEmpty());
        assertTrue(rig.modelLease(LARGE.name()).isPresent());
    }

    @Test
    void otherPathsAreForwardedAsTheyAre() throws Exception {
        HttpResponse<String> tags = rig.client.send(HttpRequest.newBuilder(rig.proxyUri("/api/tags")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, tags.statusCode());
        assertTrue(tags.body().contains("large:3b"));
        HttpResponse<String> root = rig.client.send(HttpRequest.newBuilder(rig.proxyUri("/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("Ollama is running", root.body());
        HttpResponse<String> missing = rig.client.send(HttpRequest.newBuilder(rig.proxyUri("/api/nothing")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        HttpResponse<String> show = rig.post(rig.proxyUri("/api/show"), "{\"model\":\"large:3b\"}");
        assertEquals(200, show.statusCode());
        assertTrue(show.body().contains("\"llama.block_count\":16"), show.body());
        assertTrue(rig.modelLeases().isEmpty());
    }

    static HttpRequest json(URI uri, String body) {
        return HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

}
