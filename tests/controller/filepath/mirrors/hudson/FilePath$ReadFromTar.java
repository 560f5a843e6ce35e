package hudson;

import hudson.remoting.Pipe;

/**
 * Mirror of FilePath$ReadFromTar, what copyRecursiveTo from the controller to an agent sends:
 * the agent extracts the tar the controller writes into {@code pipe} (a local-to-remote Pipe)
 * into {@code target}. Errors name the archive as {@code target.remote + '/' + description}.
 */
public final class FilePath$ReadFromTar extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final Pipe pipe;
    public final String description;
    public final FilePath$TarCompression compression;
    public final FilePath target;
    public final String filenamesEncoding;

    public FilePath$ReadFromTar(FilePath target, Pipe pipe, String description, FilePath$TarCompression compression,
            String filenamesEncoding) {
        this.target = target;
        this.pipe = pipe;
        this.description = description;
        this.compression = compression;
        this.filenamesEncoding = filenamesEncoding;
    }
}
