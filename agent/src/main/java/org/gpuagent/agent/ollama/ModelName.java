package org.gpuagent.agent.ollama;

import java.util.Optional;
import java.util.regex.Pattern;
import org.gpuagent.agent.attribution.HolderNames;

/**
 * Which model names the proxy accepts: the name becomes part of a lease holder
 * ({@code ollama-model:<name>}), so it is checked like the API's holders, and more narrowly against
 * what Ollama itself accepts ({@code [host/][namespace/]model[:tag]}: letters, digits and
 * {@code _.-:/}, at most 256 characters).
 */
public final class ModelName {
    public static final String HOLDER_PREFIX = "ollama-model:";
    static final int MAX_LENGTH = 256;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]*");

    private ModelName() {
    }

    /** What is wrong with {@code name} as a model name, as the end of "model ..."; empty when fine. */
    public static Optional<String> problem(String name) {
        if (name.isEmpty() || name.length() > MAX_LENGTH) {
            return Optional.of("name must be 1-" + MAX_LENGTH + " characters, got " + name.length());
        }
        if (!NAME.matcher(name).matches() || name.contains("..") || name.contains("//")) {
            return Optional.of("name \"" + printable(name) + "\" is not a model name (letters, digits and _.:/- "
                    + "only, as in llama3.2:3b)");
        }
        return HolderNames.problem(holder(name));
    }

    /**
     * The name as {@code /api/ps} lists it: Ollama adds the tag {@code :latest} to a name without
     * one ({@code llama3.2} is {@code llama3.2:latest}).
     */
    public static String canonical(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) < 0 ? name + ":latest" : name;
    }

    /** The lease holder of {@code name}'s model lease. */
    public static String holder(String name) {
        return HOLDER_PREFIX + name;
    }

    /** The model a holder names; empty for other holders. */
    public static Optional<String> ofHolder(String holder) {
        return holder.startsWith(HOLDER_PREFIX) ? Optional.of(holder.substring(HOLDER_PREFIX.length()))
                : Optional.empty();
    }

    /** At most 80 characters of {@code s}, control characters shown as {@code ?}: safe in a message. */
    static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder b = new StringBuilder(cut.length());
        cut.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) || Character.isSurrogate((char) c)
                ? '?' : c));
        return b.toString();
    }
}
