package org.gpuagent.bench.replay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.gpuagent.bench.replay.ReplayOutcome.ServiceStats;
import org.gpuagent.bench.replay.Scenario.Policy;
import org.gpuagent.scheduler.ByteSize;

/** The replay's findings as markdown: per policy a table per service and the stream-fit table. */
final class ReplayReport {
    /** A rendered report: markdown plus the charts it links, by file name. */
    record Rendered(String markdown, List<Chart> charts) {
    }

    record Chart(String fileName, String svg) {
    }

    private ReplayReport() {
    }

    static Rendered render(Scenario s) {
        StringBuilder md = new StringBuilder();
        List<Chart> charts = new ArrayList<>();
        List<String> services = List.copyOf(s.services().keySet());
        md.append("## Card replay: ").append(s.name()).append("\n\n");
        md.append("Scenario `").append(fileName(s.file())).append("`, seed ").append(s.seed()).append(", card ")
                .append(s.card().identity().name()).append(" (")
                .append(ByteSize.format(s.card().memory().totalBytes())).append("), VRAM table `")
                .append(fileName(s.table().file())).append("`. Waits are over the requests that waited "
                        + "(nearest rank); peak committed is the larger of a service's leases and its observed use.\n\n");
        for (Policy p : s.policies()) {
            ReplayOutcome o = CardReplay.replay(s, p);
            md.append("### Policy: ").append(p.name()).append("\n\n");
            md.append(describe(s, p)).append(" Budget ").append(ByteSize.format(o.budgetBytes())).append(" of ")
                    .append(ByteSize.format(o.deviceTotalBytes())).append("; peak committed ")
                    .append(ByteSize.format(o.peakCommittedBytes())).append(" (")
                    .append(percent(o.peakCommittedBytes(), o.budgetBytes())).append(" of the budget).\n\n");
            md.append("| service | arrived | admitted | waited | p50 wait | p99 wait | preempted | denied "
                    + "| out of memory | peak committed |\n");
            md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (ServiceStats st : o.services().values()) {
                List<Duration> w = new ArrayList<>(st.waits);
                w.sort(null);
                md.append("| ").append(st.service).append(" | ").append(st.arrived).append(" | ").append(st.admitted)
                        .append(" | ").append(w.size()).append(" | ").append(quantile(w, 0.50)).append(" | ")
                        .append(quantile(w, 0.99)).append(" | ").append(st.preempted).append(" | ").append(st.denied)
                        .append(" | ").append(st.outOfMemory).append(" | ")
                        .append(ByteSize.format(st.peakCommittedBytes)).append(" |\n");
            }
            String chart = slug(fileName(s.file()).replaceAll("\\.ya?ml$", "") + "-" + p.name()) + ".svg";
            charts.add(new Chart(chart, TimelineChart.svg(s.name() + " — policy: " + p.name(), services, o)));
            md.append("\n![committed VRAM by service, policy ").append(p.name()).append("](").append(chart)
                    .append(")\n\n");
            if (s.fit().isPresent()) {
                md.append(fitTable(s, p)).append('\n');
            }
        }
        return new Rendered(md.toString(), List.copyOf(charts));
    }

    private static String describe(Scenario s, Policy p) {
        StringBuilder b = new StringBuilder();
        b.append(p.perRequest() ? "Per-request admission (one lease per workload, its table size)."
                : "Service leases (one lease per service, its request size, while any of its workloads runs).");
        b.append(" Headroom ").append(p.headroom().map(Object::toString).orElse("auto")).append('.');
        for (Scenario.ServiceSpec spec : s.services().values()) {
            if (p.priorities().containsKey(spec.name())) {
                b.append(' ').append(spec.name()).append(" is ").append(p.priorities().get(spec.name()).label())
                        .append('.');
            }
            if (p.requests().containsKey(spec.name())) {
                b.append(' ').append(spec.name()).append(" requests ")
                        .append(ByteSize.format(p.requests().get(spec.name()))).append('.');
            }
        }
        return b.toString();
    }

    private static String fitTable(Scenario s, Policy p) {
        StringBuilder b = new StringBuilder();
        Scenario.FitSpec fit = s.fit().orElseThrow();
        b.append("How many concurrent streams of each kind fit beside the rest (policy ").append(p.name())
                .append("; \"n (m after evicting)\": m fit once the scheduler has preempted lower-priority work):\n\n");
        b.append("| stream |");
        fit.beside().forEach(bg -> b.append(' ').append(bg.name()).append(" |"));
        b.append("\n|---|");
        fit.beside().forEach(bg -> b.append("---:|"));
        b.append('\n');
        for (StreamFit.Row row : StreamFit.table(s, p)) {
            b.append("| ").append(row.stream()).append(" (")
                    .append(ByteSize.format(s.table().row(row.stream()).bytes())).append(") |");
            for (StreamFit.Cell c : row.cells()) {
                b.append(' ').append(c.withoutEviction());
                if (c.inAll() > c.withoutEviction()) {
                    b.append(" (").append(c.inAll()).append(" after evicting)");
                }
                if (c.backgroundDenied() > 0) {
                    b.append(", ").append(c.backgroundDenied()).append(" of the background refused");
                }
                b.append(" |");
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** Nearest-rank quantile of sorted waits, "-" when none waited. */
    static String quantile(List<Duration> sorted, double q) {
        if (sorted.isEmpty()) {
            return "-";
        }
        int rank = (int) Math.ceil(q * sorted.size());
        Duration d = sorted.get(Math.max(0, Math.min(sorted.size(), rank) - 1));
        long s = d.toSeconds();
        return s < 120 ? s + " s" : String.format(Locale.ROOT, "%.1f min", s / 60.0);
    }

    private static String percent(long part, long whole) {
        return String.format(Locale.ROOT, "%.0f %%", 100.0 * part / whole);
    }

    static String slug(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    }

    private static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
