package hudson;

/** Mirror of FilePath$Digest. FilePath.digest(): lowercase hex MD5 of the contents. */
public final class FilePath$Digest extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
