package org.gpuagent.bench.replay;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.gpuagent.bench.replay.ReplayOutcome.Mark;
import org.gpuagent.bench.replay.ReplayOutcome.Point;

/**
 * Draws a replay's day as SVG, by hand: committed VRAM stacked by service (steps: the value holds
 * until the next change), the budget and the card's total as lines, and a strip of marks above
 * (× denied, ▼ preempted, ! out of memory, in the service's colour). Output depends only on the
 * outcome, so it is byte-for-byte reproducible.
 */
final class TimelineChart {
    static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    private static final int WIDTH = 960;
    private static final int HEIGHT = 380;
    private static final int LEFT = 60;
    private static final int RIGHT = 150;
    private static final int TOP = 50;
    private static final int BOTTOM = 30;

    private TimelineChart() {
    }

    static String svg(String title, List<String> services, ReplayOutcome o) {
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        double yMax = o.deviceTotalBytes();
        StringBuilder b = new StringBuilder();
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(HEIGHT).append("\" font-family=\"sans-serif\" font-size=\"11\">\n");
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append("<text x=\"").append(LEFT).append("\" y=\"16\" font-size=\"13\">").append(escape(title))
                .append("</text>\n");
        // Hours along the bottom, GiB up the side.
        for (int h = 0; h <= 24; h += 3) {
            double x = LEFT + plotW * h / 24;
            b.append(line(x, TOP, x, TOP + plotH, "#eee"));
            b.append(text(x - 12, HEIGHT - BOTTOM + 16, String.format(Locale.ROOT, "%02d:00", h)));
        }
        for (long gib = 0; gib * (1L << 30) <= yMax; gib++) {
            double y = TOP + plotH - plotH * gib * (1L << 30) / yMax;
            b.append(line(LEFT, y, LEFT + plotW, y, "#eee"));
            b.append(text(LEFT - 40, y + 4, gib + " GiB"));
        }
        // Stacked steps: service k is drawn from the sum of services before it to the sum including it.
        List<Point> pts = o.timeline();
        for (int k = services.size() - 1; k >= 0; k--) {
            StringBuilder path = new StringBuilder();
            double lastY = Double.NaN;
            for (int i = 0; i < pts.size(); i++) {
                double x = LEFT + plotW * seconds(pts.get(i).at()) / 86_400.0;
                double y = TOP + plotH - plotH * stackTo(pts.get(i), k) / yMax;
                if (i == 0) {
                    path.append(String.format(Locale.ROOT, "M%.1f,%.1f", x, TOP + plotH));
                    path.append(String.format(Locale.ROOT, " L%.1f,%.1f", x, y));
                } else {
                    path.append(String.format(Locale.ROOT, " L%.1f,%.1f L%.1f,%.1f", x, lastY, x, y));
                }
                lastY = y;
            }
            path.append(String.format(Locale.ROOT, " L%.1f,%.1f L%.1f,%.1f Z", LEFT + plotW, lastY, LEFT + plotW,
                    (double) TOP + plotH));
            b.append("<path d=\"").append(path).append("\" fill=\"").append(colour(k)).append("\" stroke=\"none\"/>\n");
        }
        double budgetY = TOP + plotH - plotH * o.budgetBytes() / yMax;
        b.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(fmt(budgetY)).append("\" x2=\"")
                .append(fmt(LEFT + plotW)).append("\" y2=\"").append(fmt(budgetY))
                .append("\" stroke=\"black\" stroke-dasharray=\"6,4\"/>\n");
        b.append(text(LEFT + plotW + 6, budgetY + 4, "budget"));
        b.append(text(LEFT + plotW + 6, TOP + 4, "card total"));
        b.append(line(LEFT, TOP, LEFT + plotW, TOP, "black"));
        // Marks strip above the plot.
        for (Mark m : o.marks()) {
            double x = LEFT + plotW * seconds(m.at()) / 86_400.0;
            String glyph = switch (m.kind()) {
                case DENIED -> "×";
                case PREEMPTED -> "▼";
                case OUT_OF_MEMORY -> "!";
            };
            int row = m.kind().ordinal();
            b.append("<text x=\"").append(fmt(x - 3)).append("\" y=\"").append(TOP - 30 + row * 10)
                    .append("\" fill=\"").append(colour(services.indexOf(m.service()))).append("\">").append(glyph)
                    .append("</text>\n");
        }
        // Legend.
        for (int k = 0; k < services.size(); k++) {
            double y = TOP + 20 + k * 16;
            b.append("<rect x=\"").append(fmt(LEFT + plotW + 6)).append("\" y=\"").append(fmt(y))
                    .append("\" width=\"10\" height=\"10\" fill=\"").append(colour(k)).append("\"/>\n");
            b.append(text(LEFT + plotW + 20, y + 9, services.get(k)));
        }
        double ly = TOP + 20 + services.size() * 16 + 10;
        b.append(text(LEFT + plotW + 6, ly, "× denied"));
        b.append(text(LEFT + plotW + 6, ly + 14, "▼ preempted"));
        b.append(text(LEFT + plotW + 6, ly + 28, "! out of memory"));
        b.append("</svg>\n");
        return b.toString();
    }

    private static long stackTo(Point p, int k) {
        long sum = 0;
        for (int i = 0; i <= k; i++) {
            sum += p.committedBytes()[i];
        }
        return sum;
    }

    private static long seconds(Duration d) {
        return d.toSeconds();
    }

    static String colour(int k) {
        return COLOURS[Math.floorMod(k, COLOURS.length)];
    }

    private static String line(double x1, double y1, double x2, double y2, String stroke) {
        return "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" + fmt(y2)
                + "\" stroke=\"" + stroke + "\"/>\n";
    }

    private static String text(double x, double y, String s) {
        return "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\">" + escape(s) + "</text>\n";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
