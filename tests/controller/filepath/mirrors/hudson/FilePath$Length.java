package hudson;

/** Mirror of FilePath$Length. FilePath.length(): Long, 0 when missing. */
public final class FilePath$Length extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
