package hudson;

/** Mirror of FilePath$Absolutize. FilePath.absolutize(): File.getAbsolutePath on the agent. */
public final class FilePath$Absolutize extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
