package hudson;

/** Mirror of FilePath$Write. FilePath.write(String, String): writes text in a charset (null: the agent's default). */
public final class FilePath$Write extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String encoding;
    public final String content;

    public FilePath$Write(String encoding, String content) {
        this.encoding = encoding;
        this.content = content;
    }
}
