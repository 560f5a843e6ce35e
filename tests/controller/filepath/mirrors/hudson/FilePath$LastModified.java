package hudson;

/** Mirror of FilePath$LastModified. FilePath.lastModified(): Long milliseconds, 0 when missing. */
public final class FilePath$LastModified extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
