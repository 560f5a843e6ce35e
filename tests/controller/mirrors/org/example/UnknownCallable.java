package org.example;

import jenkins.security.MasterToSlaveCallable;

/** A callable no agent implements, for the unsupported-callable scenario. */
public final class UnknownCallable extends MasterToSlaveCallable {
    private static final long serialVersionUID = 7L;
    public final String note;

    public UnknownCallable(String note) {
        this.note = note;
    }
}
