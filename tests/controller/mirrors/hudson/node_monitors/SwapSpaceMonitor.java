package hudson.node_monitors;

import jenkins.security.MasterToSlaveCallable;
import org.jvnet.hudson.MemoryUsage;

/** Mirror holding SwapSpaceMonitor's callable and answer. */
public final class SwapSpaceMonitor {
    private SwapSpaceMonitor() {}

    public static final class MonitorTask extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }

    public static final class MemoryUsage2 extends MemoryUsage {
        private static final long serialVersionUID = 2216994637932270352L;
    }
}
