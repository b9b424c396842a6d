package org.gpuagent.agent.logging;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The daemon's log: one line per event on stderr, written at once. Under journald (systemd sets
 * {@code JOURNAL_STREAM}) each line starts with a syslog priority prefix such as {@code <6>}, which
 * journald turns into the entry's priority, and carries no timestamp (journald adds one);
 * elsewhere it starts with an ISO-8601 UTC time. Then the level ({@code ERROR}, {@code WARN},
 * {@code INFO}, {@code DEBUG}) and the message.
 *
 * <p>An exception is shown as its one-line description, never a stack trace, unless
 * {@code GPU_AGENT_DEBUG} is set: an operator reads "port 9849 in use", not forty frames.
 *
 * <p>Our own lines bypass {@code java.util.logging}, whose shutdown hook closes its handlers
 * while ours still wants to say that the journal was synced. Libraries that log through
 * {@code System.Logger} or JUL (the scheduler, the sampler) reach the same output through
 * {@link #bridgeJavaUtilLogging()}.
 */
public final class DaemonLog {
    public enum Severity {
        ERROR(3), WARN(4), INFO(6), DEBUG(7);

        private final int syslogPriority;

        Severity(int syslogPriority) {
            this.syslogPriority = syslogPriority;
        }
    }

    private static volatile PrintStream out = System.err;
    private static volatile boolean journald = System.getenv("JOURNAL_STREAM") != null;
    private static volatile boolean debug = System.getenv("GPU_AGENT_DEBUG") != null;

    private DaemonLog() {
    }

    /** Where lines go and in which form; for tests and for the CLI's in-process runs. */
    public static void configure(PrintStream stream, Map<String, String> env) {
        out = stream;
        journald = env.get("JOURNAL_STREAM") != null;
        debug = env.get("GPU_AGENT_DEBUG") != null;
    }

    public static void error(String message) {
        log(Severity.ERROR, message, null);
    }

    public static void warn(String message) {
        log(Severity.WARN, message, null);
    }

    public static void warn(String message, Throwable t) {
        log(Severity.WARN, message, t);
    }

    public static void info(String message) {
        log(Severity.INFO, message, null);
    }

    public static void debug(String message) {
        if (debug) {
            log(Severity.DEBUG, message, null);
        }
    }

    public static boolean debugEnabled() {
        return debug;
    }

    public static void log(Severity severity, String message, Throwable t) {
        StringBuilder line = new StringBuilder(96 + message.length());
        if (journald) {
            line.append('<').append(severity.syslogPriority).append('>');
        } else {
            line.append(Instant.now()).append(' ');
        }
        line.append(severity.name()).append(' ');
        appendOneLine(line, message);
        if (t != null) {
            line.append(": ");
            appendOneLine(line, describe(t));
        }
        PrintStream s = out;
        synchronized (s) {
            s.println(line);
            if (t != null && debug) {
                t.printStackTrace(s);
            }
            s.flush();
        }
    }

    /** An exception and its causes as one line: {@code IOException: x (caused by BindException: y)}. */
    public static String describe(Throwable t) {
        StringBuilder b = new StringBuilder();
        Throwable c = t;
        int depth = 0;
        while (c != null && depth < 4) {
            if (depth > 0) {
                b.append(" (caused by ");
            }
            String msg = c.getMessage();
            b.append(c.getClass().getSimpleName());
            if (msg != null && !msg.isBlank()) {
                b.append(": ").append(msg);
            }
            c = c.getCause() == c ? null : c.getCause();
            depth++;
        }
        b.append(")".repeat(Math.max(0, depth - 1)));
        return b.toString();
    }

    private static void appendOneLine(StringBuilder b, String text) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            b.append(ch == '\n' || ch == '\r' ? ' ' : ch);
        }
    }

    /**
     * Sends java.util.logging (and so {@code System.Logger}) records of INFO and above, DEBUG
     * with {@code GPU_AGENT_DEBUG}, to this log.
     */
    public static void bridgeJavaUtilLogging() {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(debug ? Level.FINE : Level.INFO);
        root.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (!isLoggable(r)) {
                    return;
                }
                int v = r.getLevel().intValue();
                Severity s = v >= Level.SEVERE.intValue() ? Severity.ERROR
                        : v >= Level.WARNING.intValue() ? Severity.WARN
                        : v >= Level.INFO.intValue() ? Severity.INFO : Severity.DEBUG;
                String msg = r.getMessage() == null ? "" : r.getMessage();
                if (r.getParameters() != null && r.getParameters().length > 0) {
                    try {
                        msg = java.text.MessageFormat.format(msg, r.getParameters());
                    } catch (IllegalArgumentException e) {
                        // keep the raw message
                    }
                }
                log(s, msg, r.getThrown());
            }

            @Override
            public void flush() {
                out.flush();
            }

            @Override
            public void close() {
                flush();
            }
        });
    }
}
