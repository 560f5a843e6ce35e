package hudson;

/** Mirror of FilePath$Exists. FilePath.exists(): Boolean, File.exists (follows links). */
public final class FilePath$Exists extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
