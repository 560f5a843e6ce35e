package hudson;

/** Mirror of FilePath$IsDirectory. FilePath.isDirectory(): Boolean. */
public final class FilePath$IsDirectory extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
