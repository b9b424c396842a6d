package org.gpuagent.bench.replay;

/** A scenario or VRAM table that cannot be replayed; the message names the file and line. */
public final class ScenarioException extends Exception {
    private static final long serialVersionUID = 1L;

    ScenarioException(String file, int line, String problem) {
        super(file + ":" + line + ": " + problem);
    }
}
