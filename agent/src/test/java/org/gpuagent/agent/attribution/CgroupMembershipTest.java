package org.gpuagent.agent.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** /proc/PID/cgroup as real hosts write it → containers and units. */
public class CgroupMembershipTest {
    public static final String ID = "3f4c1b2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b";
    static final String ID2 = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

    static Stream<Arguments> hosts() {
        return Stream.of(
                Arguments.of("cgroup v2, a system service",
                        "0::/system.slice/ollama.service\n",
                        List.of(), List.of("ollama.service")),
                Arguments.of("a templated unit in a nested slice",
                        "0::/system.slice/system-getty.slice/getty@tty1.service\n",
                        List.of(), List.of("getty@tty1.service")),
                Arguments.of("NixOS podman-frigate.service (--cgroups=no-conmon): the container's own scope",
                        "0::/machine.slice/libpod-" + ID + ".scope/container\n",
                        List.of(ID), List.of()),
                Arguments.of("Podman --cgroups=split: the payload under the unit that runs podman",
                        "0::/system.slice/podman-frigate.service/libpod-payload-" + ID + "\n",
                        List.of(ID), List.of("podman-frigate.service")),
                Arguments.of("rootless Podman under the user manager",
                        "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID + ".scope/container\n",
                        List.of(ID), List.of("user@1000.service")),
                Arguments.of("a user unit",
                        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/ollama.service\n",
                        List.of(), List.of("ollama.service", "user@1000.service")),
                Arguments.of("a login session (transient scope)",
                        "0::/user.slice/user-1000.slice/session-3.scope\n",
                        List.of(), List.of("session-3.scope")),
                Arguments.of("Docker, systemd driver",
                        "0::/system.slice/docker-" + ID + ".scope\n",
                        List.of(ID), List.of()),
                Arguments.of("Podman, cgroupfs manager (cgroup v1, no name=systemd line)",
                        "7:memory:/libpod_parent/libpod-" + ID + "\n6:cpu,cpuacct:/libpod_parent/libpod-" + ID + "\n",
                        List.of(ID), List.of()),
                Arguments.of("Docker, cgroupfs driver (cgroup v1)",
                        "12:pids:/docker/" + ID + "\n1:name=systemd:/docker/" + ID + "\n",
                        List.of(ID), List.of()),
                Arguments.of("cgroup v1: the name=systemd line wins over the controllers",
                        "11:blkio:/system.slice/other.service\n10:memory:/\n4:cpu,cpuacct:/system.slice\n"
                                + "1:name=systemd:/system.slice/jellyfin.service\n",
                        List.of(), List.of("jellyfin.service")),
                Arguments.of("cgroup v1 without accounting: the only line naming a unit",
                        "4:memory:/\n3:cpu,cpuacct:/\n2:pids:/system.slice/jellyfin.service\n1:name=openrc:/\n",
                        List.of(), List.of("jellyfin.service")),
                Arguments.of("hybrid: the unified line first",
                        "12:memory:/system.slice/other.service\n1:name=systemd:/system.slice/other.service\n"
                                + "0::/system.slice/jellyfin.service\n",
                        List.of(), List.of("jellyfin.service")),
                Arguments.of("the conmon scope is the monitor, not the container",
                        "0::/machine.slice/libpod-conmon-" + ID + ".scope\n",
                        List.of(), List.of("libpod-conmon-" + ID + ".scope")),
                Arguments.of("a unit inside a container belongs to the container",
                        "0::/machine.slice/libpod-" + ID + ".scope/container/system.slice/nginx.service\n",
                        List.of(ID), List.of()),
                Arguments.of("a container inside a container: leaf-most first",
                        "0::/machine.slice/libpod-" + ID + ".scope/container/libpod-" + ID2 + ".scope\n",
                        List.of(ID2, ID), List.of()),
                Arguments.of("a short id is not a container id",
                        "0::/machine.slice/libpod-3f4c1b2a9e8d.scope\n",
                        List.of(), List.of("libpod-3f4c1b2a9e8d.scope")),
                Arguments.of("a removed cgroup",
                        "0::/system.slice/ollama.service (deleted)\n",
                        List.of(), List.of("ollama.service")),
                Arguments.of("no newline at the end, CRLF-free", "0::/system.slice/immich-machine-learning.service",
                        List.of(), List.of("immich-machine-learning.service")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hosts")
    void parses(String what, String procCgroup, List<String> containers, List<String> units) {
        CgroupMembership m = CgroupMembership.parse(procCgroup).orElseThrow(() -> new AssertionError(what));
        assertEquals(containers, m.containers(), what);
        assertEquals(units, m.units(), what);
        assertEquals(containers.stream().findFirst(), m.container());
        assertEquals(units.stream().findFirst(), m.unit());
    }

    static Stream<Arguments> nothing() {
        return Stream.of(
                Arguments.of("empty", ""),
                Arguments.of("the root cgroup (or a cgroup namespace)", "0::/\n"),
                Arguments.of("an empty path", "0::\n"),
                Arguments.of("a slice only", "0::/system.slice\n"),
                Arguments.of("v1, no unit anywhere", "4:memory:/\n1:name=systemd:/\n"),
                Arguments.of("garbage", "hello world\n"),
                Arguments.of("a truncated line", "12:memory"),
                Arguments.of("colons only", "::::\n::\n"),
                Arguments.of("a bare suffix is no unit", "0::/system.slice/.service\n"),
                Arguments.of("binary junk", "\u0000\u0001\uFFFD:\u0000/\n"),
                Arguments.of("libpod- with something that is not an id", "0::/machine.slice/libpod-zzz\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nothing")
    void namesNothing(String what, String procCgroup) {
        assertEquals(Optional.empty(), CgroupMembership.parse(procCgroup), what);
    }

    @Test
    void containerIdsAreFull64LowerCaseHexDigits() {
        assertTrue(CgroupMembership.isContainerId(ID));
        assertEquals(false, CgroupMembership.isContainerId(ID.toUpperCase(java.util.Locale.ROOT)));
        assertEquals(false, CgroupMembership.isContainerId(ID.substring(1)));
        assertEquals(false, CgroupMembership.isContainerId(ID + "0"));
        assertEquals(false, CgroupMembership.isContainerId("g" + ID.substring(1)));
    }
}
