package hudson.node_monitors;

import jenkins.security.MasterToSlaveCallable;

/** Mirror holding ArchitectureMonitor$GetArchTask. */
public final class ArchitectureMonitor {
    private ArchitectureMonitor() {}

    public static final class GetArchTask extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }
}
