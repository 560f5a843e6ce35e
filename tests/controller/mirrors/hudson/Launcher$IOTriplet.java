package hudson;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;

/** Mirror of Launcher$IOTriplet: the process pipes a launch exported (all null unless reversed). */
public final class Launcher$IOTriplet implements Serializable {
    private static final long serialVersionUID = 1L;
    public InputStream stdout;
    public InputStream stderr;
    public OutputStream stdin;
}
