package org.gpuagent.agent.daemon;

import java.time.Duration;
import org.gpuagent.agent.actuate.Actuator;
import org.gpuagent.scheduler.Evictor;

/**
 * On the simulator backend, a preemption acts on the simulator: the victim's simulated process
 * exits after a short delay, as a service freeing its memory would. The real actuator (named in
 * the log) is not run: there is no Ollama or unit to act on.
 */
final class SimulatedEviction implements Actuator {
    private final Actuator real;
    private final SimulatedServices sim;
    private final Duration delay;

    SimulatedEviction(Actuator real, SimulatedServices sim, Duration delay) {
        this.real = real;
        this.sim = sim;
        this.delay = delay;
    }

    @Override
    public String describe() {
        return "the simulator, in place of " + real.describe();
    }

    @Override
    public String act(Evictor.Order order, Duration timeout) {
        sim.exitLater(order.victim(), delay);
        return "its simulated process exits in " + delay.toMillis() + " ms";
    }
}
