package org.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MainTest {
    /**
     * The metrics listener's connection bound (issue 14: idle connections cost no thread there, so
     * the JDK's own limit is what keeps them from using up the file descriptors).
     */
    @Test
    void theJdkServerIsBoundedBeforeAnyStarts() {
        Main.configureHttpServer();
        assertEquals(Integer.toString(Main.MAX_METRICS_CONNECTIONS), System.getProperty("sun.net.httpserver.maxConnections"));
        assertEquals("30", System.getProperty("sun.net.httpserver.maxReqTime"));
        assertEquals("true", System.getProperty("sun.net.httpserver.nodelay"));
    }
}
