package hudson;

/** Mirror of FilePath$DeleteContents. FilePath.deleteContents(): empties a directory, keeps it. */
public final class FilePath$DeleteContents extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
