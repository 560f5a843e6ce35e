package org.jenkinsci.plugins.durabletask;

/** Mirror of durable-task's BourneShellScript; only its controller crosses the wire. */
public final class BourneShellScript {
    private BourneShellScript() {}

    /** Mirror of BourneShellScript$ShellController (isZos and the result file's encoding are for z/OS). */
    public static final class ShellController extends FileMonitoringTask.FileMonitoringController {
        private static final long serialVersionUID = 1L;
        public final boolean isZos;
        public String jenkinsResultTxtEncoding;

        public ShellController(String controlDir, String cookieValue, String charset) {
            super(controlDir, cookieValue, charset);
            this.isZos = false;
        }
    }
}
