package hudson;

/** Mirror of FilePath$ListGlob. FilePath.list(includes, excludes, defaultExcludes): FilePath[] of the Ant selection. */
public final class FilePath$ListGlob extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String includes;
    public final String excludes;
    public final boolean defaultExcludes;

    public FilePath$ListGlob(String includes, String excludes, boolean defaultExcludes) {
        this.includes = includes;
        this.excludes = excludes;
        this.defaultExcludes = defaultExcludes;
    }
}
