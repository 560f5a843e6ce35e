package hudson;

/** Mirror of FilePath$ReadToString. FilePath.readToString(): the file decoded in the agent's default charset. */
public final class FilePath$ReadToString extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
