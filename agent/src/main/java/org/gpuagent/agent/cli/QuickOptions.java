package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.agent.config.Durations;

/**
 * The options of a command line the quick paths ({@link QuickAdmit}, {@link QuickExec}) take
 * without picocli: {@code --name value} or {@code --name=value}, each name at most once except
 * the one repeatable name. Anything else (an unknown or repeated name, a missing value) is
 * refused with an empty answer, so that picocli handles the line and its usage error looks the
 * same on both paths.
 */
final class QuickOptions {
    /** The options every quick path shares: where the agent is and how long to wait. */
    private static final List<String> CLIENT = List.of("--wait", "--config", "--api", "--state-dir");

    private final Map<String, String> values;
    private final List<String> repeated;
    private final int end;

    private QuickOptions(Map<String, String> values, List<String> repeated, int end) {
        this.values = values;
        this.repeated = repeated;
        this.end = end;
    }

    /** {@link #CLIENT}'s names and a command's own. */
    static Set<String> clientAnd(String... own) {
        List<String> all = new ArrayList<>(CLIENT);
        all.addAll(List.of(own));
        return Set.copyOf(all);
    }

    /**
     * Reads {@code args} from index 1 up to the end, or up to a {@code --} when {@code untilDashDash}.
     *
     * @param names the names allowed once
     * @param repeatable a name allowed any number of times (its values in order), or null
     */
    static Optional<QuickOptions> parse(String[] args, Set<String> names, String repeatable, boolean untilDashDash) {
        Map<String, String> values = new HashMap<>();
        List<String> repeated = new ArrayList<>();
        int i = 1;
        for (; i < args.length && !(untilDashDash && args[i].equals("--")); i++) {
            String name = args[i];
            String value;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return Optional.empty();
            }
            if (name.equals(repeatable)) {
                repeated.add(value);
            } else if (!names.contains(name) || values.putIfAbsent(name, value) != null) {
                return Optional.empty();
            }
        }
        return Optional.of(new QuickOptions(values, repeated, i));
    }

    /** The value of {@code name}, or null when the line does not give it. */
    String get(String name) {
        return values.get(name);
    }

    /** The repeatable name's values, in order. */
    List<String> repeated() {
        return repeated;
    }

    /** The index where reading stopped: the {@code --}, or the length of the line. */
    int end() {
        return end;
    }

    /** What {@link #CLIENT}'s options name: the wait, the client's configuration and the agent's API. */
    record Client(Duration maxWait, ClientConfig config, ApiClient api) {
    }

    /**
     * The wait, configuration and API the options name.
     *
     * @throws IllegalArgumentException a bad duration, configuration file or address (picocli
     *     then reports it)
     */
    Client client(CliContext ctx) {
        String wait = get("--wait");
        String config = get("--config");
        String stateDir = get("--state-dir");
        Duration w = wait == null ? Duration.ZERO : Durations.parse(wait);
        ClientConfig agentConfig = ClientConfig.load(config == null ? Optional.empty() : Optional.of(Path.of(config)));
        ApiClient api = ApiClient.resolve(get("--api"), stateDir == null ? null : Path.of(stateDir), ctx, agentConfig);
        return new Client(w, agentConfig, api);
    }
}
