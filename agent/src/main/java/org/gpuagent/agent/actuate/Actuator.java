package org.gpuagent.agent.actuate;

import java.time.Duration;
import org.gpuagent.scheduler.Evictor;

/**
 * Makes a preempted service give its VRAM back: unload Ollama's models, restart a unit, stop a
 * unit or a container. Runs on an actuator thread, never on the ledger's writer.
 *
 * <p>Contract: {@link #act} blocks until the action is done or {@code timeout} has passed (then it
 * gives up, killing what it started, and throws); it returns a short outcome for the log. The
 * ledger does not take its word: the victim's memory counts until the GPU shows it free.
 */
public interface Actuator {

    /** e.g. {@code ollama-unload via http://127.0.0.1:11434}, for log lines. */
    String describe();

    String act(Evictor.Order order, Duration timeout) throws Exception;
}
