package hudson;

/** Mirror of FilePath$CopyToWithPermission. FilePath.copyToWithPermission(FilePath) on one host: contents, mode and mtime. */
public final class FilePath$CopyToWithPermission extends jenkins.MasterToSlaveFileCallable {
    // Jenkins declares no serialVersionUID here; Kite only reads this class, so the computed one is never checked.
    public final FilePath target;

    public FilePath$CopyToWithPermission(FilePath target) {
        this.target = target;
    }
}
