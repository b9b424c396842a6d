package org.gpuagent.agent.cli;

import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** An option's text made a value, or a usage error (exit 2) naming the option: {@code --bytes: not a size ...}. */
final class OptionValue {
    private OptionValue() {
    }

    /** @param parse throws {@link IllegalArgumentException} with the reason when {@code text} is no value */
    static <T> T parse(CommandSpec spec, String option, String text, Function<String, T> parse) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }
}
