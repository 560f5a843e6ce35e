package hudson;

/** Mirror of FilePath$GetFreeDiskSpace. FilePath.getFreeDiskSpace(): Long unallocated bytes of the partition. */
public final class FilePath$GetFreeDiskSpace extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
