package hudson;

import hudson.remoting.Pipe;
import hudson.util.DirScanner;

/**
 * Mirror of FilePath$CopyRecursiveRemoteToLocal, what copyRecursiveTo from an agent to the
 * controller sends (StandardArtifactManager.archive): the agent writes a tar of what
 * {@code scanner} selects into {@code pipe} and returns the entry count.
 */
public final class FilePath$CopyRecursiveRemoteToLocal extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final Pipe pipe;
    public final DirScanner scanner;
    public final FilePath$TarCompression compression;
    public final String filenamesEncoding;

    public FilePath$CopyRecursiveRemoteToLocal(Pipe pipe, DirScanner scanner, FilePath$TarCompression compression,
            String filenamesEncoding) {
        this.pipe = pipe;
        this.scanner = scanner;
        this.compression = compression;
        this.filenamesEncoding = filenamesEncoding;
    }
}
