package org.gpuagent.agent.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.gpuagent.scheduler.ByteSize;

/** {@code gpu-agent status} for people: the {@code /v1/status} JSON as a few aligned tables. */
final class StatusTable {
    private StatusTable() {
    }

    private static final DateTimeFormatter LOCAL_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** An ISO instant from the API as local wall time to the second; anything else as it came. */
    static String time(Object iso) {
        if (iso == null) {
            return "-";
        }
        try {
            return LOCAL_TIME.format(Instant.parse(iso.toString()).atZone(ZoneId.systemDefault()));
        } catch (DateTimeParseException e) {
            return iso.toString();
        }
    }

    static String render(Map<String, Object> s) {
        StringBuilder b = new StringBuilder();
        Map<String, Object> gpu = map(s.get("gpu"));
        b.append("gpu-agent ").append(str(s.get("version"))).append(", backend ").append(str(s.get("backend")))
                .append(", GPU data ").append(str(gpu.get("status")));
        if (gpu.get("statusDetail") != null) {
            b.append(" (").append(str(gpu.get("statusDetail"))).append(')');
        }
        b.append(", state in ").append(str(s.get("stateDir"))).append("\n\n");

        Map<String, Object> budget = map(s.get("budget"));
        b.append("Budget    ").append(size(budget.get("budgetBytes"))).append(" = ")
                .append(size(budget.get("deviceTotalBytes"))).append(" device - ")
                .append(size(budget.get("headroomBytes"))).append(" headroom\n");
        b.append("Committed ").append(size(budget.get("committedBytes"))).append(" (leased ")
                .append(size(budget.get("leasedBytes"))).append(", unattributed ")
                .append(size(budget.get("unattributedBytes"))).append("), free ")
                .append(size(budget.get("freeBytes"))).append("\n\n");

        Table devices = new Table("GPU", "NAME", "UUID", "MEMORY USED", "UTIL", "TEMP", "POWER", "");
        for (Object o : list(s.get("devices"))) {
            Map<String, Object> d = map(o);
            devices.row(str(d.get("index")), str(d.get("name")), str(d.get("uuid")),
                    d.get("memoryUsedBytes") == null ? "-"
                            : size(d.get("memoryUsedBytes")) + " / " + size(d.get("memoryTotalBytes")),
                    d.get("utilizationPercent") == null ? "-" : str(d.get("utilizationPercent")) + "%",
                    d.get("temperatureCelsius") == null ? "-" : str(d.get("temperatureCelsius")) + " C",
                    d.get("powerWatts") == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f W",
                            ((Number) d.get("powerWatts")).doubleValue()),
                    Boolean.TRUE.equals(d.get("arbitrated")) ? "arbitrated" : "");
        }
        devices.appendTo(b, "no GPU answered");

        Table services = new Table("SERVICE", "PRIORITY", "FAIL", "PREEMPTION", "REQUEST", "LEASED", "OBSERVED",
                "LEASES");
        for (Object o : list(s.get("services"))) {
            Map<String, Object> v = map(o);
            long evicting = num(v.get("evictingLeases"));
            services.row(str(v.get("service")), str(v.get("priority")), str(v.get("failMode")),
                    str(v.get("preemption")), size(v.get("requestBytes")), size(v.get("leasedBytes")),
                    size(v.get("observedBytes")),
                    num(v.get("activeLeases")) + (evicting > 0 ? " (+" + evicting + " evicting)" : ""));
        }
        services.appendTo(b, "no services");

        Table leases = new Table("LEASE", "SERVICE", "SIZE", "HOLDER", "STATE", "GRANTED");
        for (Object o : list(s.get("leases"))) {
            Map<String, Object> l = map(o);
            leases.row(str(l.get("id")), str(l.get("service")), size(l.get("bytes")),
                    l.get("holder") == null ? "-" : str(l.get("holder")), str(l.get("state")), time(l.get("grantedAt")));
        }
        leases.appendTo(b, "no leases");

        Table queue = new Table("QUEUE", "SERVICE", "SIZE", "HOLDER", "WAITING SINCE", "DEADLINE");
        for (Object o : list(s.get("queue"))) {
            Map<String, Object> q = map(o);
            queue.row(str(q.get("position")), str(q.get("service")), size(q.get("bytes")),
                    q.get("holder") == null ? "-" : str(q.get("holder")), time(q.get("submittedAt")),
                    time(q.get("deadline")));
        }
        queue.appendTo(b, "nothing waiting");
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static List<?> list(Object o) {
        return o instanceof List<?> l ? l : List.of();
    }

    private static String str(Object o) {
        return o == null ? "-" : o.toString();
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static String size(Object o) {
        return o instanceof Number n ? ByteSize.format(n.longValue()) : "-";
    }

    /** Left-aligned columns, two spaces apart. */
    private static final class Table {
        private final String[] header;
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            this.header = header;
        }

        void row(String... cells) {
            rows.add(cells);
        }

        void appendTo(StringBuilder b, String empty) {
            if (rows.isEmpty()) {
                b.append(header[0]).append(": ").append(empty).append("\n\n");
                return;
            }
            int[] w = new int[header.length];
            for (int i = 0; i < header.length; i++) {
                w[i] = header[i].length();
                for (String[] r : rows) {
                    w[i] = Math.max(w[i], r[i].length());
                }
            }
            line(b, header, w);
            for (String[] r : rows) {
                line(b, r, w);
            }
            b.append('\n');
        }

        private static void line(StringBuilder b, String[] cells, int[] w) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < cells.length; i++) {
                l.append(cells[i]);
                if (i < cells.length - 1) {
                    l.append(" ".repeat(w[i] - cells[i].length() + 2));
                }
            }
            b.append(l.toString().stripTrailing()).append('\n');
        }
    }
}
