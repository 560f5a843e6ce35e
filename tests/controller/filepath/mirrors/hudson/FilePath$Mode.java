package hudson;

/** Mirror of FilePath$Mode. FilePath.mode(): Integer permission bits. */
public final class FilePath$Mode extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
