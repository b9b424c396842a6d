package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The quick paths' option reader: what it takes, and everything it leaves to picocli. */
class QuickOptionsTest {
    private static final Set<String> NAMES = QuickOptions.clientAnd("--service", "--bytes");

    @Test
    void bothSpellingsARepeatableNameAndTheStopAtDashDash() {
        QuickOptions o = QuickOptions.parse(new String[] {"exec", "--service", "jellyfin", "--bytes=1GiB",
                "--wait", "5s", "--pid", "7", "--pid=8", "--", "ffmpeg", "--service", "x"}, NAMES, "--pid", true)
                .orElseThrow();
        assertEquals("jellyfin", o.get("--service"));
        assertEquals("1GiB", o.get("--bytes"));
        assertEquals("5s", o.get("--wait"));
        assertNull(o.get("--holder"));
        assertEquals(List.of("7", "8"), o.repeated());
        assertEquals(9, o.end());
    }

    @Test
    void unknownRepeatedOrValuelessNamesAreLeftToPicocli() {
        assertTrue(QuickOptions.parse(new String[] {"admit", "--service", "a", "--dry-run", "x"}, NAMES, null, false)
                .isEmpty());
        assertTrue(QuickOptions.parse(new String[] {"admit", "--service", "a", "--service", "b"}, NAMES, null, false)
                .isEmpty());
        assertTrue(QuickOptions.parse(new String[] {"admit", "--service"}, NAMES, null, false).isEmpty());
    }

    @Test
    void withoutTheStopADashDashIsAnUnknownName() {
        assertTrue(QuickOptions.parse(new String[] {"admit", "--", "x"}, NAMES, null, false).isEmpty());
        assertEquals(3, QuickOptions.parse(new String[] {"admit", "--service", "a"}, NAMES, null, true)
                .orElseThrow().end());
    }
}
