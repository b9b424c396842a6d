package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.START;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A lease group as {@link Accounts} keeps it: one group per (service, holder), aged by its first
 * lease, last used when its most recently used lease was.
 */
class LeaseGroupTest {
    private final Accounts accounts = new Accounts(Homelab.config(8 * GIB, 0), System.getLogger("test"));

    private Lease lease(long id, String holder) {
        return Lease.active(new LeaseId(id), "ollama", GIB, Optional.of(holder), List.of(), START);
    }

    @Test
    void leasesOfOneHolderShareAGroupAgedByItsFirstLease() {
        accounts.add(lease(7, "systemd:ollama.service"));
        accounts.add(lease(9, "systemd:ollama.service"));
        accounts.add(lease(8, "oci:other"));
        LeaseGroup g = accounts.slot(new LeaseId(7)).group;
        assertSame(g, accounts.slot(new LeaseId(9)).group);
        assertEquals(7, g.age());
        assertEquals(2 * GIB, g.leasedBytes);
        assertEquals(2 * GIB, g.releasableBytes(), "nothing observed: it commits what it leases");
        assertEquals(2, accounts.holderGroups().size());
    }

    @Test
    void lastUsedIsTheLatestUseOfItsLeasesAndAnOlderUseIsIgnored() {
        accounts.add(lease(1, "h"));
        accounts.add(lease(2, "h"));
        LeaseGroup g = accounts.slot(new LeaseId(1)).group;
        assertEquals(Instant.MIN, g.lastUsed(), "never touched");
        assertTrue(accounts.touch(new LeaseId(1), START.plusSeconds(5)));
        assertTrue(accounts.touch(new LeaseId(2), START.plusSeconds(3)));
        assertTrue(accounts.touch(new LeaseId(1), START.plusSeconds(1)));
        assertEquals(START.plusSeconds(5), g.lastUsed());
        assertFalse(accounts.touch(new LeaseId(3), START), "not counted");
    }

    @Test
    void aTouchChangesNoVersion() {
        accounts.add(lease(1, "h"));
        long version = accounts.version();
        accounts.touch(new LeaseId(1), START);
        assertEquals(version, accounts.version());
    }
}
