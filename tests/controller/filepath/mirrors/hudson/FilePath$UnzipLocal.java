package hudson;

/**
 * Mirror of FilePath$UnzipLocal, what FilePath.unzip sends when the zip and the target directory
 * are on the same agent: the agent extracts the file {@code filePath} into the callable's path.
 */
public final class FilePath$UnzipLocal extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath filePath;

    public FilePath$UnzipLocal(FilePath filePath) {
        this.filePath = filePath;
    }
}
