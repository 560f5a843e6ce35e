package hudson;

/** Mirror of FilePath$Delete (binary name spelled out, like FilePath$Mkdirs). */
public final class FilePath$Delete extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
