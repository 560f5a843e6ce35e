package hudson;

/** Mirror of FilePath$Touch. FilePath.touch(long): creates the file when missing, sets its modification time. */
public final class FilePath$Touch extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = -5094638816500738429L;
    public final long timestamp;

    public FilePath$Touch(long timestamp) {
        this.timestamp = timestamp;
    }
}
