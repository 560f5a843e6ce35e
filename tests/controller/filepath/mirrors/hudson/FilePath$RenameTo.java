package hudson;

/** Mirror of FilePath$RenameTo. FilePath.renameTo(FilePath): Files.move without following links. */
public final class FilePath$RenameTo extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath target;

    public FilePath$RenameTo(FilePath target) {
        this.target = target;
    }
}
