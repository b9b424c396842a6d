package org.gpuagent.agent.config;

/**
 * One thing wrong with a configuration: where (file, 1-based line, YAML path) and what.
 * Rendered as {@code FILE:LINE: PATH: MESSAGE}, the form editors and CI logs link.
 */
public record ConfigProblem(String source, int line, String path, String message) {
    @Override
    public String toString() {
        String where = line > 0 ? source + ":" + line : source;
        return where + ": " + (path.isEmpty() ? "" : path + ": ") + message;
    }
}
