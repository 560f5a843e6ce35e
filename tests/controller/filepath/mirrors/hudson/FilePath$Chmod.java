package hudson;

/** Mirror of FilePath$Chmod. FilePath.chmod(int): sets the permission bits (at most 0777). */
public final class FilePath$Chmod extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final int mask;

    public FilePath$Chmod(int mask) {
        this.mask = mask;
    }
}
