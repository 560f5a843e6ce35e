package hudson;

/**
 * Mirror of FilePath$IsDescendant, what the controller's directory browser sends before it serves
 * a file of an agent's workspace: whether the relative path stays inside once links are resolved.
 */
public final class FilePath$IsDescendant extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String potentialChildRelativePath;

    public FilePath$IsDescendant(String potentialChildRelativePath) {
        this.potentialChildRelativePath = potentialChildRelativePath;
    }
}
