package org.gpuagent.bench.agent;

import java.util.List;
import java.util.Locale;

/**
 * The agent capacity curve as SVG, by hand: for each benchmark, p99 latency against the rate
 * reached at each client count (log-scaled latency), with its target as a dashed line, and RSS
 * per step as a label.
 */
public final class CapacityChart {
    private static final int W = 480;
    private static final int H = 300;
    private static final int L = 60;
    private static final int R = 20;
    private static final int T = 40;
    private static final int B = 40;

    private CapacityChart() {
    }

    public static String svg(List<AgentCapacity.Step> steps) {
        StringBuilder b = new StringBuilder();
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(2 * W).append("\" height=\"").append(H)
                .append("\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        panel(b, 0, steps, "admitRelease", "admit + release", AgentCapacity.ADMIT_P99_TARGET_MS);
        panel(b, W, steps, "scrape", "GET /metrics", AgentCapacity.SCRAPE_P99_TARGET_MS);
        return b.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder b, int x0, List<AgentCapacity.Step> all, String benchmark, String title,
            double targetMs) {
        List<AgentCapacity.Step> steps = all.stream().filter(s -> s.benchmark().equals(benchmark)).toList();
        if (steps.isEmpty()) {
            return;
        }
        double maxRate = steps.stream().mapToDouble(AgentCapacity.Step::ratePerSecond).max().orElse(1) * 1.1;
        double minMs = 0.01;
        double maxMs = Math.max(targetMs * 4, steps.stream().mapToDouble(AgentCapacity.Step::p99Ms).max().orElse(1) * 2);
        double pw = W - L - R;
        double ph = H - T - B;
        b.append(text(x0 + L, 20, title + ": p99 latency against rate (labels: clients, agent RSS)"));
        b.append(line(x0 + L, T, x0 + L, T + ph, "black")).append(line(x0 + L, T + ph, x0 + L + pw, T + ph, "black"));
        for (double ms = minMs; ms <= maxMs; ms *= 10) {
            double y = y(ms, minMs, maxMs, ph);
            b.append(line(x0 + L, y, x0 + L + pw, y, "#eee")).append(text(x0 + 8, y + 4, fmtMs(ms)));
        }
        double ty = y(targetMs, minMs, maxMs, ph);
        b.append("<line x1=\"").append(f(x0 + L)).append("\" y1=\"").append(f(ty)).append("\" x2=\"").append(f(x0 + L + pw))
                .append("\" y2=\"").append(f(ty)).append("\" stroke=\"red\" stroke-dasharray=\"6,4\"/>\n");
        b.append(text(x0 + L + pw - 90, ty - 4, "target " + fmtMs(targetMs)));
        for (int i = 0; i <= 4; i++) {
            double rate = maxRate * i / 4;
            b.append(text(x0 + L + pw * i / 4 - 12, T + ph + 16, String.format(Locale.ROOT, "%,.0f", rate)));
        }
        b.append(text(x0 + L + pw / 2 - 30, H - 6, "requests per second"));
        StringBuilder poly = new StringBuilder();
        for (AgentCapacity.Step s : steps) {
            double x = x0 + L + pw * s.ratePerSecond() / maxRate;
            double y = y(Math.max(minMs, s.p99Ms()), minMs, maxMs, ph);
            poly.append(f(x)).append(',').append(f(y)).append(' ');
            b.append("<circle cx=\"").append(f(x)).append("\" cy=\"").append(f(y)).append("\" r=\"3\" fill=\"#1f77b4\"/>\n");
            b.append(text(x + 4, y - 4, s.clients() + " / " + String.format(Locale.ROOT, "%.0f MiB", s.rssKiB() / 1024.0)));
        }
        b.append("<polyline points=\"").append(poly.toString().strip()).append("\" fill=\"none\" stroke=\"#1f77b4\"/>\n");
    }

    private static double y(double ms, double minMs, double maxMs, double ph) {
        return T + ph - ph * Math.log10(ms / minMs) / Math.log10(maxMs / minMs);
    }

    private static String fmtMs(double ms) {
        return ms >= 1 ? String.format(Locale.ROOT, "%.0f ms", ms) : String.format(Locale.ROOT, "%.2f ms", ms);
    }

    private static String line(double x1, double y1, double x2, double y2, String stroke) {
        return "<line x1=\"" + f(x1) + "\" y1=\"" + f(y1) + "\" x2=\"" + f(x2) + "\" y2=\"" + f(y2) + "\" stroke=\""
                + stroke + "\"/>\n";
    }

    private static String text(double x, double y, String s) {
        return "<text x=\"" + f(x) + "\" y=\"" + f(y) + "\">" + s.replace("&", "&amp;").replace("<", "&lt;") + "</text>\n";
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
