package hudson;

/** Mirror of FilePath$GetUsableDiskSpace. FilePath.getUsableDiskSpace(): Long bytes usable by the agent. */
public final class FilePath$GetUsableDiskSpace extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
