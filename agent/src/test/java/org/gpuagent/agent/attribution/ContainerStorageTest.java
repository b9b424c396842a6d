package org.gpuagent.agent.attribution;

import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID;
import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID2;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.gpuagent.exporter.WorkloadKind;
import org.gpuagent.exporter.WorkloadRef;
import org.gpuagent.scheduler.LedgerView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Container names from containers/storage's files, as Podman writes them; no podman call. */
class ContainerStorageTest {
    /** One entry as containers/storage writes it for a container Podman created (trimmed to the fields it always has). */
    static String entry(String id, String name) {
        return "{\"id\":\"" + id + "\",\"names\":[\"" + name + "\"],\"image\":\"5d0da3dc9764\",\"layer\":\"0c1f\","
                + "\"metadata\":\"{\\\"image-name\\\":\\\"ghcr.io/blakeblackshear/frigate:stable\\\","
                + "\\\"image-id\\\":\\\"5d0da3dc9764\\\",\\\"name\\\":\\\"" + name + "\\\",\\\"created-at\\\":1767225600}\","
                + "\"created\":\"2026-01-01T00:00:00Z\",\"flags\":{\"MountLabel\":\"\"}}";
    }

    @TempDir
    Path store;

    private void write(String file, String json) throws IOException {
        // containers/storage replaces its files by a rename; do the same.
        Path tmp = store.resolve(file + ".tmp");
        Files.writeString(tmp, json);
        Files.move(tmp, store.resolve(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aContainerIsNamedByItsFirstNameInContainersJson() throws IOException {
        write("containers.json", "[" + entry(ID, "frigate") + "," + entry(ID2, "comfyui") + "]");
        ContainerStorage names = new ContainerStorage(List.of(store));
        assertEquals(Optional.of("frigate"), names.nameOf(ID));
        assertEquals(Optional.of("comfyui"), names.nameOf(ID2));
        assertEquals(Optional.empty(), names.nameOf("f".repeat(64)));
    }

    @Test
    void aContainerCreatedLaterIsFoundOnceTheFileChanged() throws IOException {
        write("containers.json", "[" + entry(ID, "frigate") + "]");
        ContainerStorage names = new ContainerStorage(List.of(store));
        assertEquals(Optional.empty(), names.nameOf(ID2));
        write("containers.json", "[" + entry(ID, "frigate") + "," + entry(ID2, "comfyui") + "]");
        assertEquals(Optional.of("comfyui"), names.nameOf(ID2));
        assertEquals(Optional.of("frigate"), names.nameOf(ID));
    }

    @Test
    void transientContainersAreReadFromTheVolatileFile() throws IOException {
        write("volatile-containers.json", "[" + entry(ID2, "whisper-once") + "]");
        ContainerStorage names = new ContainerStorage(List.of(store.resolve("missing"), store));
        assertEquals(Optional.of("whisper-once"), names.nameOf(ID2));
    }

    @Test
    void theMetadataNameServesWhenNamesIsEmpty() throws IOException {
        write("containers.json", "[" + entry(ID, "frigate").replace("\"names\":[\"frigate\"]", "\"names\":[]") + "]");
        assertEquals(Optional.of("frigate"), new ContainerStorage(List.of(store)).nameOf(ID));
    }

    @Test
    void aBrokenFileIsSkippedAndTheOtherStillAnswers() throws IOException {
        write("containers.json", "[{\"id\": \"" + ID + "\", \"names\": [\"frig");
        write("volatile-containers.json", "[" + entry(ID2, "comfyui") + "]");
        ContainerStorage names = new ContainerStorage(List.of(store));
        assertEquals(Optional.empty(), names.nameOf(ID));
        assertEquals(Optional.of("comfyui"), names.nameOf(ID2));
    }

    @Test
    void theWorkloadOfAnUnclaimedContainerIsItsNameElseItsShortId(@TempDir Path proc) throws IOException {
        write("containers.json", "[" + entry(ID, "comfyui") + "]");
        for (int pid : new int[] {70, 71}) {
            Files.createDirectories(proc.resolve(Integer.toString(pid)));
        }
        Files.writeString(proc.resolve("70").resolve("cgroup"), "0::/machine.slice/libpod-" + ID + ".scope/container\n");
        Files.writeString(proc.resolve("71").resolve("cgroup"), "0::/machine.slice/libpod-" + ID2 + ".scope\n");
        AtomicReference<LedgerView> view = new AtomicReference<>(CgroupAttributorTest.view(1));
        AttributionChain chain = new AttributionChain(new LeasePidAttributor(view::get),
                Optional.of(new CgroupAttributor(proc, view::get, List.of())), List.of(),
                new ContainerStorage(List.of(store)));
        assertEquals(Optional.of(new WorkloadRef("comfyui", WorkloadKind.CONTAINER)), chain.workloadOf(70));
        assertEquals(Optional.of(new WorkloadRef(ID2.substring(0, 12), WorkloadKind.CONTAINER)), chain.workloadOf(71),
                "a container no store lists keeps its short id");
    }
}
