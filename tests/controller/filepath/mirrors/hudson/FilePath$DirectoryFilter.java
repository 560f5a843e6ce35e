package hudson;

import java.io.File;
import java.io.FileFilter;
import java.io.Serializable;

/** Mirror of FilePath$DirectoryFilter, the filter of FilePath.listDirectories(). */
public final class FilePath$DirectoryFilter implements FileFilter, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean accept(File f) {
        return f.isDirectory();
    }
}
