package hudson;

import java.util.Map;

/** Mirror of FilePath$ExplicitlySpecifiedDirScanner: archive path to workspace path, both relative. */
public final class FilePath$ExplicitlySpecifiedDirScanner extends hudson.util.DirScanner {
    private static final long serialVersionUID = 1L;
    public final Map<String, String> files;

    public FilePath$ExplicitlySpecifiedDirScanner(Map<String, String> files) {
        this.files = files;
    }
}
