package org.jenkinsci.plugins.workflow.steps.durable_task;

import hudson.model.TaskListener;
import org.jenkinsci.plugins.durabletask.Handler;

/** Mirror of the classes of workflow-durable-task-step's DurableTaskStep used in watch mode. */
public final class DurableTaskStep {
    private DurableTaskStep() {}

    /**
     * Mirror of DurableTaskStep$ExecutionRemotable, the interface of the step execution the
     * controller exports for the agent-side watcher.
     */
    public interface ExecutionRemotable {
        void exited(int code, byte[] output) throws Exception;

        void problem(Exception x);
    }

    /** Mirror of DurableTaskStep$HandlerImpl: the exported execution and the step's listener. */
    public static final class HandlerImpl extends Handler {
        private static final long serialVersionUID = 1L;
        public final ExecutionRemotable execution;
        public final TaskListener listener;

        public HandlerImpl(ExecutionRemotable execution, TaskListener listener) {
            this.execution = execution;
            this.listener = listener;
        }
    }
}
