package org.jenkinsci.plugins.workflow.log;

import hudson.model.TaskListener;

/** Mirror of workflow-api's TaskListenerDecorator; only its CloseableTaskListener crosses the wire. */
public final class TaskListenerDecorator {
    private TaskListenerDecorator() {}

    /** Mirror of TaskListenerDecorator$CloseableTaskListener, the listener of a Pipeline step. */
    public static final class CloseableTaskListener implements TaskListener {
        private static final long serialVersionUID = 1L;
        public final TaskListener mainDelegate;
        public final TaskListener closeDelegate;

        public CloseableTaskListener(TaskListener mainDelegate, TaskListener closeDelegate) {
            this.mainDelegate = mainDelegate;
            this.closeDelegate = closeDelegate;
        }
    }
}
