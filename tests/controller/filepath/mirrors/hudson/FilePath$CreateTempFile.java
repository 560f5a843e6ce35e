package hudson;

/** Mirror of FilePath$CreateTempFile. FilePath.createTempFile(prefix, suffix): returns the new file's name. */
public final class FilePath$CreateTempFile extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String prefix;
    public final String suffix;

    public FilePath$CreateTempFile(String prefix, String suffix) {
        this.prefix = prefix;
        this.suffix = suffix;
    }
}
