package hudson;

/** Mirror of FilePath$MoveAllChildrenTo. FilePath.moveAllChildrenTo(FilePath): moves the children, removes the directory. */
public final class FilePath$MoveAllChildrenTo extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FilePath target;

    public FilePath$MoveAllChildrenTo(FilePath target) {
        this.target = target;
    }
}
