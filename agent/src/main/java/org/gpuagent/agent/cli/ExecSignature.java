package org.gpuagent.agent.cli;

import java.util.List;
import org.gpuagent.agent.sizing.FfmpegShape;

/**
 * The kind of work an {@code exec}'d program does, as the agent learns it: an ffmpeg's
 * {@link FfmpegShape#signature()}, else {@code exec:<program file name>}.
 */
final class ExecSignature {
    private ExecSignature() {
    }

    static String of(List<String> program) {
        String p = program.get(0);
        if (FfmpegShape.isFfmpeg(p)) {
            return FfmpegShape.of(program.subList(1, program.size())).signature();
        }
        String name = p.substring(p.lastIndexOf('/') + 1);
        return "exec:".concat(name.length() > 100 ? name.substring(0, 100) : name);
    }

    /** Whether the program will touch the GPU at all: an ffmpeg that decodes, encodes and filters on the CPU does not. */
    static boolean usesGpu(List<String> program) {
        return !FfmpegShape.isFfmpeg(program.get(0)) || FfmpegShape.of(program.subList(1, program.size())).usesGpu();
    }
}
