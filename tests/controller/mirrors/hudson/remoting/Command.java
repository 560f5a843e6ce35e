package hudson.remoting;

import java.io.Serializable;

/** Mirror of remoting's Command: every command on the wire extends it. */
public abstract class Command implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Diagnostic creation site; the test controller always sends null. */
    public Exception createdAt;
}
