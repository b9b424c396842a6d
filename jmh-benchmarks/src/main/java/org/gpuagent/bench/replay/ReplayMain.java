package org.gpuagent.bench.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code bench/replay SCENARIO [--out DIR]}: replays a scenario under each of its policies and
 * prints the report as markdown; with {@code --out}, also writes it ({@code replay.md}) and the
 * charts there. A scenario it cannot read is refused in one line with its file and line (exit 2).
 */
public final class ReplayMain {
    private ReplayMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Path scenario = null;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                out = Path.of(args[++i]);
            } else if (!args[i].startsWith("-") && scenario == null) {
                scenario = Path.of(args[i]);
            } else {
                System.err.println("usage: bench/replay SCENARIO.yaml [--out DIR]");
                return 2;
            }
        }
        if (scenario == null) {
            System.err.println("usage: bench/replay SCENARIO.yaml [--out DIR]");
            return 2;
        }
        try {
            ReplayReport.Rendered r = ReplayReport.render(ScenarioLoader.load(scenario));
            if (out != null) {
                Files.createDirectories(out);
                Files.writeString(out.resolve("replay.md"), r.markdown(), StandardCharsets.UTF_8);
                for (ReplayReport.Chart c : r.charts()) {
                    Files.writeString(out.resolve(c.fileName()), c.svg(), StandardCharsets.UTF_8);
                }
            }
            System.out.print(r.markdown());
            return 0;
        } catch (ScenarioException e) {
            System.err.println("replay: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("replay: cannot read or write: " + e.getMessage());
            return 2;
        }
    }
}
