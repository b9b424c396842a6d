package org.gpuagent.agent.api;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;

/**
 * The API in this JVM over a journal-less ledger on a 4 GiB card without headroom (frigate 1 GiB
 * critical, ollama 2.5 GiB opportunistic, jellyfin 512 MiB interactive), and a raw HTTP client
 * that sends exactly the bytes a test gives.
 */
final class ApiRig implements AutoCloseable {
    static final long MIB = 1024L * 1024;
    static final long GIB = 1024 * MIB;
    static final List<Service> SERVICES = List.of(
            new Service("frigate", PriorityClass.CRITICAL, GIB, false, Duration.ofSeconds(5), Duration.ofSeconds(30),
                    64 * MIB),
            new Service("jellyfin", PriorityClass.INTERACTIVE, 512 * MIB, true, Duration.ofSeconds(5),
                    Duration.ofSeconds(30), 64 * MIB),
            new Service("ollama", PriorityClass.OPPORTUNISTIC, 2560 * MIB, true, Duration.ofSeconds(5),
                    Duration.ofSeconds(30), 64 * MIB));

    final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rig-timers");
        t.setDaemon(true);
        return t;
    });
    final AdmissionController ledger;
    final ApiServer api;
    final String token;

    ApiRig(Path dir, HttpListener.Limits limits, Semaphore waiting) throws IOException {
        ledger = AdmissionController.builder(new SchedulerConfig(4 * GIB, Headroom.fixed(0), SERVICES),
                InstantSource.system(), new ScheduledExecutorTimers(timers, InstantSource.system())).build();
        ApiToken t = ApiToken.loadOrCreate(dir, new SecureRandom());
        token = t.value();
        api = ApiServer.start(new InetSocketAddress("127.0.0.1", 0), limits, t, ledger, waiting);
    }

    static ApiRig start(Path dir) throws IOException {
        return new ApiRig(dir, HttpListener.Limits.DEFAULT, new Semaphore(ApiServer.MAX_WAITING));
    }

    int port() {
        return api.port();
    }

    /** An authorized request with a JSON body (or none), over a fresh connection that then closes. */
    Reply call(String method, String path, String body) throws IOException {
        return send(request(method, path, body));
    }

    String request(String method, String path, String body) {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                + "\r\nConnection: close\r\n" + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: "
                + b.length + "\r\n") + "\r\n" + (body == null ? "" : body);
    }

    /** Sends {@code raw} (ISO-8859-1 for the head, the body's bytes as given) and reads the reply. */
    Reply send(String raw) throws IOException {
        return send(raw.getBytes(StandardCharsets.UTF_8));
    }

    Reply send(byte[] raw) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(raw);
            out.flush();
            return Reply.read(s.getInputStream());
        }
    }

    long leaseCount() {
        return ledger.view().leases().size();
    }

    void releaseAll() {
        ledger.view().leases().forEach(l -> ledger.release(l.id()).join());
    }

    void release(long id) {
        ledger.release(new LeaseId(id)).join();
    }

    @Override
    public void close() throws IOException {
        api.close();
        ledger.close();
        timers.shutdownNow();
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One HTTP response: status, headers (lower-case names), body. */
    record Reply(int status, Map<String, String> headers, String body) {
        static Reply read(InputStream in) throws IOException {
            String statusLine = line(in);
            if (statusLine == null) {
                throw new IOException("no reply: the connection closed");
            }
            String[] parts = statusLine.split(" ", 3);
            int status = Integer.parseInt(parts[1]);
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
            }
            String cl = headers.get("content-length");
            byte[] body;
            if (cl != null) {
                body = in.readNBytes(Integer.parseInt(cl));
            } else if (status == 204 || status < 200) {
                body = new byte[0];
            } else {
                body = in.readAllBytes();
            }
            return new Reply(status, headers, new String(body, StandardCharsets.UTF_8));
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
                }
                if (c != '\r') {
                    b.write(c);
                }
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }

        Map<String, Object> json() throws IOException {
            return JSON.std.mapFrom(body);
        }

        long leaseId() throws IOException {
            @SuppressWarnings("unchecked")
            Map<String, Object> lease = (Map<String, Object>) json().get("lease");
            return ((Number) lease.get("id")).longValue();
        }
    }
}
