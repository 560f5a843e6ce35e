package hudson;

import java.io.IOException;

/** Stand-in with the name and serialVersionUID of Jenkins' AbortException. */
public class AbortException extends IOException {
    private static final long serialVersionUID = 1L;

    public AbortException(String message) {
        super(message);
    }
}
