package org.gpuagent.agent.api;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the API's HTTP layer: the input's bytes are sent as they are over a
 * connection to the listener in this JVM ({@code TOKEN} in them becomes the real token), then the
 * connection is half-closed; the first answer must satisfy {@link FuzzOracle}. A close without
 * an answer is right only for an empty input, or when the request was granted: a client that closed
 * its side before the answer has given up, and the grant goes back (the ledger changed).
 */
class HttpListenerFuzzTest {
    private static Path dir;
    private static ApiRig rig;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("http-fuzz");
        rig = ApiRig.start(dir);
    }

    @AfterAll
    static void stop() throws IOException {
        rig.close();
        ApiRig.deleteTree(dir);
    }

    @FuzzTest(maxDuration = "30s")
    @SuppressWarnings("try") // ownListener's permission lasts for the block, which never names it
    void rawRequest(byte[] raw) throws IOException {
        byte[] request = new String(raw, StandardCharsets.ISO_8859_1).replace("TOKEN", rig.token)
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] reply;
        long before = rig.ledger.view().version();
        // Jazzer reports any connection a fuzz target opens as request forgery; this one is the point.
        try (SilentCloseable ownListener = BugDetectors.allowNetworkConnections((h, p) -> p == rig.port());
                Socket s = new Socket("127.0.0.1", rig.port())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request);
            s.shutdownOutput();
            reply = readAll(s.getInputStream());
            String text = new String(reply, StandardCharsets.ISO_8859_1);
            boolean nothingFinal = reply.length == 0 || text.startsWith("HTTP/1.1 100 ")
                    && text.indexOf("\r\n\r\n") == text.length() - 4;
            if (nothingFinal && raw.length > 0 && rig.ledger.view().version() == before) {
                throw new AssertionError("closed without an answer, and nothing was granted: "
                        + new String(request, 0, Math.min(request.length, 80), StandardCharsets.ISO_8859_1));
            }
        } finally {
            rig.releaseAll();
        }
        if (reply.length > 0) {
            checkFirstAnswer(reply, new String(request, 0, Math.min(request.length, 80), StandardCharsets.ISO_8859_1));
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the listener neither answered nor closed within 15 s", e);
        } catch (IOException reset) {
            // closed by the server with our bytes unread
        }
        return out.toByteArray();
    }

    /** Status line, headers, and the body its Content-Length gives (none for HEAD and 1xx/204). */
    private static void checkFirstAnswer(byte[] reply, String context) {
        String text = new String(reply, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || headEnd < 0) {
            throw new AssertionError("not an HTTP/1.1 answer: " + text + " (" + context + ")");
        }
        int status = Integer.parseInt(text.substring(9, 12));
        if (status == 100) {
            if (headEnd + 4 < text.length()) {
                checkFirstAnswer(text.substring(headEnd + 4).getBytes(StandardCharsets.ISO_8859_1), context);
            }
            return;
        }
        int length = 0;
        for (String h : text.substring(0, headEnd).split("\r\n")) {
            if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).strip());
            }
        }
        boolean head = context.startsWith("HEAD ");
        byte[] body = head ? new byte[0] : text.substring(headEnd + 4, Math.min(text.length(), headEnd + 4 + length))
                .getBytes(StandardCharsets.ISO_8859_1);
        if (!head && body.length != length) {
            throw new AssertionError("a body shorter than its Content-Length: " + text + " (" + context + ")");
        }
        if (!head) {
            FuzzOracle.check(status, body, context);
        } else if (status >= 500) {
            throw new AssertionError("status " + status + " (" + context + ")");
        }
    }
}
