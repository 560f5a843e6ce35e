package hudson;

/**
 * Mirror of FilePath$DeleteSuffixesRecursive: deletes the siblings named like the path followed
 * by '@' (workspace@tmp, workspace@2), as workspace cleanup does.
 */
public final class FilePath$DeleteSuffixesRecursive extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
}
