package org.gpuagent.agent.config;

/**
 * Container names as Podman and Docker accept them ({@code [a-zA-Z0-9][a-zA-Z0-9_.-]*}), or a
 * container id (hex digits). A name is passed to {@code podman stop} as an argument, so it must
 * never start with {@code -}.
 */
public final class ContainerNames {
    /** Docker's and Podman's limit on a name is far above this; a longer one is a mistake. */
    public static final int MAX_LENGTH = 255;

    private ContainerNames() {
    }

    public static boolean valid(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
            if (!alnum && (i == 0 || c != '_' && c != '.' && c != '-')) {
                return false;
            }
        }
        return true;
    }

    public static String problem(String name) {
        return "\"" + name + "\" is not a container name (a letter or digit, then letters, digits, '_', '.' or '-'; "
                + "at most " + MAX_LENGTH + " characters)";
    }
}
