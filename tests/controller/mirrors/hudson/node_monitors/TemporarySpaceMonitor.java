package hudson.node_monitors;

import jenkins.MasterToSlaveFileCallable;

/** Mirror holding TemporarySpaceMonitor$GetTempSpace. */
public final class TemporarySpaceMonitor {
    private TemporarySpaceMonitor() {}

    public static final class GetTempSpace extends MasterToSlaveFileCallable {
        private static final long serialVersionUID = 1L;
    }
}
