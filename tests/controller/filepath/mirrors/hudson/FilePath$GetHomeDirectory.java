package hudson;

/**
 * Mirror of FilePath$GetHomeDirectory, the plain callable of FilePath.getHomeDirectory(channel):
 * the agent returns its user's home directory as a FilePath.
 */
public final class FilePath$GetHomeDirectory extends jenkins.security.MasterToSlaveCallable {
    // Jenkins declares no serialVersionUID here; Kite only reads this class, so the computed one is never checked.
}
