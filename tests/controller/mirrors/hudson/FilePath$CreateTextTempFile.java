package hudson;

/** Mirror of FilePath$CreateTextTempFile: how a shell step writes its script to the agent. */
public final class FilePath$CreateTextTempFile extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final boolean inThisDirectory;
    public final String prefix;
    public final String suffix;
    public final String contents;

    public FilePath$CreateTextTempFile(boolean inThisDirectory, String prefix, String suffix, String contents) {
        this.inThisDirectory = inThisDirectory;
        this.prefix = prefix;
        this.suffix = suffix;
        this.contents = contents;
    }
}
