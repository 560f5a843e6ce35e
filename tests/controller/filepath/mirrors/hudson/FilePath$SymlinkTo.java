package hudson;

import hudson.model.TaskListener;

/**
 * Mirror of FilePath$SymlinkTo, what FilePath.symlinkTo(target, listener) sends: the agent
 * replaces the file by a symbolic link to {@code target} and reports failures on the listener.
 */
public final class FilePath$SymlinkTo extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String target;
    public final TaskListener listener;

    public FilePath$SymlinkTo(String target, TaskListener listener) {
        this.target = target;
        this.listener = listener;
    }
}
