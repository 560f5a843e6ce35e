package hudson;

import hudson.model.TaskListener;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.List;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;

/**
 * Mirror of the record Launcher$RemoteLaunchCallable with Jenkins' component names and types.
 * Being a record, it is written with serialVersionUID 0 and its fields in the JDK's order.
 */
public record Launcher$RemoteLaunchCallable(List<String> cmd, boolean[] masks, String[] env, InputStream in,
        OutputStream out, OutputStream err, TaskListener listener, TaskListener stdoutListener, String workDir,
        boolean quiet, boolean reverseStdin, boolean reverseStdout, boolean reverseStderr,
        EnvVarsFilterRuleWrapper envVarsFilterRuleWrapper) implements Serializable {}
