package org.gpuagent.nvml;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds immutable lists on the sampling hot path without leaving garbage behind: every object
 * allocated ends up inside the list it returns. ({@code List.of(array)} copies its argument, and
 * {@code List.copyOf} of a one- or two-element list drops the array it made, so the straightforward
 * ways allocate an extra array per call.) Reusable, and not thread-safe: one owner at a time.
 */
public final class ExactListBuilder<E> {
    private final ArrayList<E> scratch = new ArrayList<>();

    /** Starts a new list. */
    public ExactListBuilder<E> clear() {
        scratch.clear();
        return this;
    }

    public void add(E element) {
        scratch.add(element);
    }

    /** An immutable list of the elements added since {@link #clear()}. */
    public List<E> build() {
        return switch (scratch.size()) {
            case 0 -> List.of();
            case 1 -> List.of(scratch.get(0));
            case 2 -> List.of(scratch.get(0), scratch.get(1));
            default -> List.copyOf(scratch);
        };
    }
}
