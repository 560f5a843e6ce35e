package hudson.model;

import jenkins.security.MasterToSlaveCallable;

/** Mirror holding Computer's agent-side callables. */
public final class Computer {
    private Computer() {}

    public static final class ListPossibleNames extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }

    public static final class GetFallbackName extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }
}
