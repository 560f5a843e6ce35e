package hudson;

import hudson.remoting.RemoteInputStream;

/**
 * Mirror of FilePath$UnzipRemote, what FilePath.unzip sends when the zip lives on the controller:
 * the agent extracts {@code in} into the callable's directory.
 */
public final class FilePath$UnzipRemote extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final RemoteInputStream in;

    public FilePath$UnzipRemote(RemoteInputStream in) {
        this.in = in;
    }
}
