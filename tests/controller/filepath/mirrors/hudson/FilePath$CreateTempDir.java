package hudson;

/** Mirror of FilePath$CreateTempDir. FilePath.createTempDir: returns the new directory's name (name is "prefix.suffix"). */
public final class FilePath$CreateTempDir extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String name;

    public FilePath$CreateTempDir(String name) {
        this.name = name;
    }
}
