package hudson;

/** Mirror of FilePath$GetTotalDiskSpace. FilePath.getTotalDiskSpace(): Long bytes of the partition. */
public final class FilePath$GetTotalDiskSpace extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
