package hudson;

/** Mirror of FilePath$WritePipe. FilePath.write() on a remote path: returns the agent's RemoteOutputStream to the file (copyFrom). */
public final class FilePath$WritePipe extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
