package org.jenkinsci.plugins.workflow.log;

import hudson.model.TaskListener;
import hudson.remoting.RemoteOutputStream;

/** Mirror of workflow-api's BufferedBuildListener; it crosses the wire as its Replacement. */
public final class BufferedBuildListener {
    private BufferedBuildListener() {}

    /**
     * Mirror of BufferedBuildListener$Replacement: the build log as a RemoteOutputStream and the
     * buffering settings. The plugin's class is not a TaskListener, because the agent resolves it
     * into one. The mirror implements the interface so that it fits the TaskListener fields.
     */
    public static final class Replacement implements TaskListener {
        private static final long serialVersionUID = 1L;
        public final RemoteOutputStream ros;
        public final DelayBufferedOutputStream.Tuning tuning = new DelayBufferedOutputStream.Tuning();

        public Replacement(RemoteOutputStream ros) {
            this.ros = ros;
        }
    }
}
