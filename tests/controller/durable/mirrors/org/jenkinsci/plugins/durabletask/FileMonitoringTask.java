package org.jenkinsci.plugins.durabletask;

import hudson.model.TaskListener;
import java.io.OutputStream;

/**
 * Mirror of the classes of durable-task's FileMonitoringTask that cross the wire: the controller
 * object and the agent-side callables of polling mode, and StartWatching of watch mode. Where the
 * plugin declares no serialVersionUID, the value is the one the JDK computes for its class.
 */
public final class FileMonitoringTask {
    private FileMonitoringTask() {}

    /** Mirror of FileMonitoringTask$FileMonitoringController (fields as in the plugin). */
    public static class FileMonitoringController extends Controller {
        private static final long serialVersionUID = 1L;
        /** Absolute path of the control directory. */
        public String controlDir;
        /** Control directory name of plugin versions before 1.8; null since. */
        public String id;
        public long lastLocation;
        public String cookieValue;
        public String charset;

        public FileMonitoringController(String controlDir, String cookieValue, String charset) {
            this.controlDir = controlDir;
            this.cookieValue = cookieValue;
            this.charset = charset;
        }

        /** Mirror of $StatusCheck on jenkins-result.txt: null while running, else the exit code. */
        public static final class StatusCheck extends jenkins.MasterToSlaveFileCallable {
            private static final long serialVersionUID = 5735394101254645562L;
        }

        /** Mirror of $WriteLog on jenkins-log.txt: sends the bytes from lastLocation on to sink. */
        public static final class WriteLog extends jenkins.MasterToSlaveFileCallable {
            private static final long serialVersionUID = 9158495538758751160L;
            public final long lastLocation;
            public final OutputStream sink;

            public WriteLog(long lastLocation, OutputStream sink) {
                this.lastLocation = lastLocation;
                this.sink = sink;
            }
        }

        /** Mirror of $GetOutput on output.txt (returnStdout), transcoded from charset to UTF-8. */
        public static final class GetOutput extends jenkins.MasterToSlaveFileCallable {
            private static final long serialVersionUID = 2278910510741686376L;
            public final String charset;

            public GetOutput(String charset) {
                this.charset = charset;
            }
        }

        /** Mirror of $TranscodingCharsetForSystemDefault: the agent's default charset, or null for UTF-8. */
        public static final class TranscodingCharsetForSystemDefault extends jenkins.security.MasterToSlaveCallable {
            private static final long serialVersionUID = -4652530080013464339L;
        }
    }

    /** Mirror of FileMonitoringTask$StartWatching: starts the agent-side watcher of watch mode. */
    public static final class StartWatching extends jenkins.MasterToSlaveFileCallable {
        private static final long serialVersionUID = 1L;
        public final FileMonitoringController controller;
        public final Handler handler;
        public final TaskListener listener;

        public StartWatching(FileMonitoringController controller, Handler handler, TaskListener listener) {
            this.controller = controller;
            this.handler = handler;
            this.listener = listener;
        }
    }
}
