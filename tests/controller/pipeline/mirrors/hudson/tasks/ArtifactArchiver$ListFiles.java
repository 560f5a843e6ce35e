package hudson.tasks;

/**
 * Mirror of ArtifactArchiver$ListFiles, the listing archiveArtifacts runs on the agent before
 * the transfer: an Ant file set of the workspace, returned as a HashSet of '/'-separated paths.
 */
public final class ArtifactArchiver$ListFiles extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String includes;
    public final String excludes;
    public final boolean defaultExcludes;
    public final boolean caseSensitive;
    public final boolean followSymlinks;

    public ArtifactArchiver$ListFiles(String includes, String excludes, boolean defaultExcludes, boolean caseSensitive,
            boolean followSymlinks) {
        this.includes = includes;
        this.excludes = excludes;
        this.defaultExcludes = defaultExcludes;
        this.caseSensitive = caseSensitive;
        this.followSymlinks = followSymlinks;
    }
}
