package hudson;

import hudson.remoting.RemoteInputStream;

/**
 * Mirror of FilePath$UntarRemote, what FilePath.untar sends when the tar lives on the controller
 * (unstash): the agent extracts {@code in} into the callable's directory. {@code name} is the
 * archive's file name, used in error messages.
 */
public final class FilePath$UntarRemote extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath$TarCompression compression;
    public final RemoteInputStream in;
    public final String name;

    public FilePath$UntarRemote(String name, FilePath$TarCompression compression, RemoteInputStream in) {
        this.compression = compression;
        this.in = in;
        this.name = name;
    }
}
