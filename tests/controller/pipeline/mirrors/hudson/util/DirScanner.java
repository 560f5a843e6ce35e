package hudson.util;

import java.io.Serializable;
import java.nio.file.OpenOption;

/** Mirror of hudson.util.DirScanner and the two scanners the tests send. */
public abstract class DirScanner implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Mirror of DirScanner$Glob: Ant includes and excludes, comma-separated. Jenkins scans the
     * whole tree as {@link Full} when includes is empty and excludes is null.
     */
    public static class Glob extends DirScanner {
        private static final long serialVersionUID = 1L;
        public final String includes;
        public final String excludes;
        public boolean useDefaultExcludes = true;
        public OpenOption[] openOptions;

        public Glob(String includes, String excludes, boolean useDefaultExcludes, OpenOption... openOptions) {
            this.includes = includes;
            this.excludes = excludes;
            this.useDefaultExcludes = useDefaultExcludes;
            this.openOptions = openOptions;
        }
    }

    /** Mirror of DirScanner$Full: the directory under its own name and everything below it. */
    public static class Full extends DirScanner {
        private static final long serialVersionUID = 1L;
    }
}
