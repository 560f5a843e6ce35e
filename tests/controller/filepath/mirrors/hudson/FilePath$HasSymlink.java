package hudson;

import java.nio.file.OpenOption;

/**
 * Mirror of FilePath$HasSymlink: with LinkOption.NOFOLLOW_LINKS in {@code openOptions}, whether
 * the path or an ancestor below {@code verificationRoot} is a symbolic link.
 */
public final class FilePath$HasSymlink extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final String verificationRoot;
    public final OpenOption[] openOptions;

    public FilePath$HasSymlink(String verificationRoot, OpenOption... openOptions) {
        this.verificationRoot = verificationRoot;
        this.openOptions = openOptions;
    }
}
