package hudson;

import hudson.util.DirScanner;

/**
 * Mirror of FilePath$CopyRecursiveLocal, what copyRecursiveTo sends when source and target are on
 * the same agent: the agent copies what {@code scanner} selects into {@code target} (files with
 * their attributes, links as links) and returns how many it copied.
 */
public final class FilePath$CopyRecursiveLocal extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath target;
    public final DirScanner scanner;

    public FilePath$CopyRecursiveLocal(FilePath target, DirScanner scanner) {
        this.target = target;
        this.scanner = scanner;
    }
}
