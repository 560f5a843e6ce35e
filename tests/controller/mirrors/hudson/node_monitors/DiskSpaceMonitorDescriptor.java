package hudson.node_monitors;

import jenkins.MasterToSlaveFileCallable;

/** Mirror holding the disk-space file callable and its answer. */
public final class DiskSpaceMonitorDescriptor {
    private DiskSpaceMonitorDescriptor() {}

    public static final class DiskSpace extends MonitorOfflineCause {
        private static final long serialVersionUID = 2L;
        public String path;
        public long size;
        public long totalSize;
        public Class<?> trigger;
        public long threshold;
        public long warningThreshold;
    }

    public static final class GetUsableSpace extends MasterToSlaveFileCallable {
        private static final long serialVersionUID = 1L;
    }
}
