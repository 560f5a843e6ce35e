package hudson;

/** Mirror of FilePath$ReadLink. FilePath.readLink(): the link text, or null when not a link. */
public final class FilePath$ReadLink extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
