package org.gpuagent.agent.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The proxy's request reading on its own, without a socket: framing, limits, keep-alive. */
class ProxyRequestReaderTest {

    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static ProxyExchange read(InputStream in) throws IOException {
        return ProxyRequestReader.read(null, in, new ByteArrayOutputStream());
    }

    @Test
    void aChunkedBodyIsDecodedAndTheNextRequestFollowsIt() throws IOException {
        InputStream in = bytes("POST /api/generate HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: dropped\r\n\r\n"
                + "GET /api/ps HTTP/1.0\r\nContent-Length: 2\r\n\r\nok");
        ProxyExchange first = read(in);
        assertEquals("POST", first.method());
        assertEquals("chunked", first.requestHeader("Transfer-Encoding"), "headers are case-insensitive");
        assertEquals("hello!", new String(first.requestBody().readAllBytes(), StandardCharsets.UTF_8));
        ProxyExchange second = read(in);
        assertEquals("/api/ps", second.uri().getRawPath());
        assertEquals("ok", new String(second.requestBody().readAllBytes(), StandardCharsets.UTF_8));
        assertNull(read(in), "end of stream between requests is no request");
    }

    @Test
    void keepAliveFollowsTheVersionAndConnectionHeader() throws IOException {
        ProxyExchange close = read(bytes("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        ProxyExchange old = read(bytes("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        close.send(200, 0);
        old.send(200, 0);
        assertFalse(close.finish(), "HTTP/1.1 with Connection: close ends the connection");
        assertTrue(old.finish(), "HTTP/1.0 with keep-alive carries the next request");
    }

    @Test
    void whatCannotBeReadIsABadRequestWithItsStatus() {
        assertEquals(400, status("GET /x\r\n\r\n"));
        assertEquals(400, status("GET x HTTP/1.1\r\n\r\n"));
        assertEquals(400, status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"));
        assertEquals(501, status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"));
        assertEquals(431, status("GET / HTTP/1.1\r\n"
                + "X: a\r\n".repeat(ProxyRequestReader.MAX_HEADERS + 1) + "\r\n"));
        assertEquals(431, status("GET /" + "a".repeat(ProxyRequestReader.MAX_LINE) + " HTTP/1.1\r\n\r\n"));
    }

    @Test
    void aBadChunkSizeIsRefusedWhenTheBodyIsRead() throws IOException {
        ProxyExchange ex = read(bytes("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
        BadRequest e = assertThrows(BadRequest.class, () -> ex.requestBody().readAllBytes());
        assertEquals(400, e.status);
    }

    private static int status(String request) {
        return assertThrows(BadRequest.class, () -> read(bytes(request))).status;
    }
}
