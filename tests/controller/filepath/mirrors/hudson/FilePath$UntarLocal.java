package hudson;

/**
 * Mirror of FilePath$UntarLocal, what FilePath.untar sends when the tar and the target directory
 * are on the same agent: the agent extracts the file {@code filePath} into the callable's path.
 */
public final class FilePath$UntarLocal extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath$TarCompression compression;
    public final FilePath filePath;

    public FilePath$UntarLocal(FilePath filePath, FilePath$TarCompression compression) {
        this.filePath = filePath;
        this.compression = compression;
    }
}
