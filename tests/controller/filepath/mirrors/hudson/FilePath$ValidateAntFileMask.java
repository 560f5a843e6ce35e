package hudson;

/** Mirror of FilePath$ValidateAntFileMask. FilePath.validateAntFileMask: null when every mask matches, else the explanation. */
public final class FilePath$ValidateAntFileMask extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1;
    public final String fileMasks;
    public final boolean caseSensitive;
    public final int bound;

    public FilePath$ValidateAntFileMask(String fileMasks, boolean caseSensitive, int bound) {
        this.fileMasks = fileMasks;
        this.caseSensitive = caseSensitive;
        this.bound = bound;
    }
}
