package hudson.remoting;

import java.io.Serializable;

/** Mirror holding PingThread$Ping, the callable both sides use as a ping. */
public final class PingThread {
    private PingThread() {}

    public static final class Ping implements Serializable {
        private static final long serialVersionUID = 1L;
    }
}
