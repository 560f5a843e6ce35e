package hudson;

/**
 * Mirror of FilePath$SetLastModified, what copyToWithPermission between two nodes sends to the
 * target's node after the copy: File.setLastModified, null on success.
 */
public final class FilePath$SetLastModified extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = -828220335793641630L;
    public final long timestamp;

    public FilePath$SetLastModified(long timestamp) {
        this.timestamp = timestamp;
    }
}
