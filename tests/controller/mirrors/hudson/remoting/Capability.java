package hudson.remoting;

import java.io.Serializable;

/** Mirror of remoting's Capability (sent base64-encoded in X-Remoting-Capability). */
public final class Capability implements Serializable {
    private static final long serialVersionUID = 1L;
    public final long mask;

    public Capability(long mask) {
        this.mask = mask;
    }
}
