package hudson.node_monitors;

import hudson.slaves.OfflineCause;

/** Mirror of Jenkins' MonitorOfflineCause (no declared serialVersionUID, like the real class). */
public abstract class MonitorOfflineCause extends OfflineCause {}
