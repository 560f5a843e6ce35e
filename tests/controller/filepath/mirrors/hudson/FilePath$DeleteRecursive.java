package hudson;

/** Mirror of FilePath$DeleteRecursive. FilePath.deleteRecursive(): removes a tree without following links. */
public final class FilePath$DeleteRecursive extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
