package hudson;

import java.io.FileFilter;

/**
 * Mirror of FilePath$ListFilter, what FilePath.list() (filter null) and listDirectories()
 * (FilePath$DirectoryFilter) send: the agent returns the children as a List of FilePath.
 */
public final class FilePath$ListFilter extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final FileFilter filter;

    public FilePath$ListFilter(FileFilter filter) {
        this.filter = filter;
    }
}
