package org.gpuagent.agent.api;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The listener's open connections and what each is doing, so that slow or idle clients cannot
 * lock others out: at most {@code max} are open; a new one beyond closes the connection idle
 * longest, else the one that has been reading its request longest; when every connection is
 * being answered the new one is refused (the listener answers it 429). A connection being
 * answered is never closed to make room. Thread-safe.
 */
final class Connections {
    enum Phase { IDLE, READING, ANSWERING }

    /** One open connection: its socket, what it is doing and since when, and whether it was shed. */
    static final class Slot {
        private final Socket socket;
        private volatile Phase phase = Phase.IDLE;
        private volatile long since = System.nanoTime();
        /** Set under the registry's lock when the connection was closed to make room. */
        private volatile boolean shed;

        private Slot(Socket socket) {
            this.socket = socket;
        }

        Phase phase() {
            return phase;
        }

        /** Closes the connection; a thread reading or writing it fails at once. */
        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    private final int max;
    private final Set<Slot> open = new LinkedHashSet<>();

    Connections(int max) {
        this.max = max;
    }

    /** Registers {@code socket}, first closing a connection that waits or reads when full; null when every one is answering. */
    Slot admit(Socket socket) {
        Slot victim = null;
        Slot s = new Slot(socket);
        synchronized (open) {
            if (open.size() >= max) {
                victim = pickVictim();
                if (victim == null) {
                    return null;
                }
                victim.shed = true;
                open.remove(victim);
            }
            open.add(s);
        }
        if (victim != null) {
            victim.close();
        }
        return s;
    }

    /** The connection idle longest, else the one reading its request longest; null if all answer. */
    private Slot pickVictim() {
        Slot idle = null;
        Slot reading = null;
        for (Slot c : open) {
            if (c.phase == Phase.IDLE && (idle == null || c.since < idle.since)) {
                idle = c;
            } else if (c.phase == Phase.READING && (reading == null || c.since < reading.since)) {
                reading = c;
            }
        }
        return idle != null ? idle : reading;
    }

    /** Moves {@code s} to {@code p}; false when it was shed first (its connection is closed). */
    boolean enter(Slot s, Phase p) {
        synchronized (open) {
            if (s.shed) {
                return false;
            }
            s.phase = p;
            s.since = System.nanoTime();
            return true;
        }
    }

    void forget(Slot s) {
        synchronized (open) {
            open.remove(s);
        }
    }

    int size() {
        synchronized (open) {
            return open.size();
        }
    }

    /** The connections open now. */
    List<Slot> all() {
        synchronized (open) {
            return new ArrayList<>(open);
        }
    }
}
