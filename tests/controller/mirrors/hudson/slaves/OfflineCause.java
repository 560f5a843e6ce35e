package hudson.slaves;

import java.io.Serializable;

/** Mirror of Jenkins' OfflineCause (no declared serialVersionUID, like the real class). */
public abstract class OfflineCause implements Serializable {
    protected final long timestamp = System.currentTimeMillis();
}
