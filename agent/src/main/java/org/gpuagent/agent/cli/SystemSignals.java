package org.gpuagent.agent.cli;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * The wrapper's real signals, for {@link LeasedProgram}: caught through {@code sun.misc.Signal}
 * (module {@code jdk.unsupported}, the JDK's only way to handle a signal by name; reached by
 * reflection because the build treats the compiler's "internal API" warning as an error), sent
 * on with {@link Process#destroy()} for SIGTERM and {@code kill -s NAME PID} for the others (the
 * JDK can send no other signal itself; a signal is rare, so the extra process is no cost).
 */
final class SystemSignals implements LeasedProgram.Signals {
    /**
     * Forwarded. Not SIGQUIT: HotSpot keeps it for thread dumps and refuses a handler ("Signal
     * already used by VM or OS"), with or without {@code -Xrs} (which makes it refuse TERM, INT
     * and HUP too: the launcher does not use it). Checked on OpenJDK 17.
     */
    static final List<String> FORWARDED = List.of("TERM", "INT", "HUP", "USR1", "USR2");

    @Override
    public List<String> install(LeasedProgram.SignalHandler onSignal) {
        List<String> taken = new ArrayList<>();
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Method handle = signal.getMethod("handle", signal, handler);
            Method getName = signal.getMethod("getName");
            Method getNumber = signal.getMethod("getNumber");
            Object proxy = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler},
                    (self, method, args) -> {
                        if (method.getName().equals("handle") && args != null && args.length == 1) {
                            onSignal.onSignal((String) getName.invoke(args[0]), (Integer) getNumber.invoke(args[0]));
                            return null;
                        }
                        return switch (method.getName()) {
                            case "hashCode" -> System.identityHashCode(self);
                            case "equals" -> self == args[0];
                            default -> "SystemSignals";
                        };
                    });
            for (String name : FORWARDED) {
                try {
                    handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
                    taken.add(name);
                } catch (InvocationTargetException e) {
                    // the JVM keeps this one (under -Xrs, all of them): it is not forwarded
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // no sun.misc.Signal in this runtime: nothing is forwarded, the default actions apply
        }
        return taken;
    }

    @Override
    public void send(String name, long pid) {
        if (name.equals("TERM")) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            return;
        }
        try {
            new ProcessBuilder("kill", "-s", name, Long.toString(pid)).inheritIO().start();
        } catch (IOException e) {
            // no kill(1): the signal is not forwarded; the program keeps running until it ends
        }
    }
}
