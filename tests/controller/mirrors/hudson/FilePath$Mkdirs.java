package hudson;

/**
 * Mirror of FilePath$Mkdirs. Declared as a top-level class whose name contains the '$', so the
 * binary name matches Jenkins' nested class without editing the FilePath mirror.
 */
public final class FilePath$Mkdirs extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
