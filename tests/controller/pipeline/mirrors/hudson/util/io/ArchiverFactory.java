package hudson.util.io;

import hudson.FilePath$TarCompression;
import java.io.Serializable;
import java.nio.file.OpenOption;

/** Mirror of hudson.util.io.ArchiverFactory and its tar and zip factories (private in Jenkins). */
public abstract class ArchiverFactory implements Serializable {
    private static final long serialVersionUID = 1L;

    /** ArchiverFactory.TARGZ, the factory stash uses. */
    public static final ArchiverFactory TARGZ = new TarArchiverFactory(FilePath$TarCompression.GZIP);
    /** ArchiverFactory.TAR. */
    public static final ArchiverFactory TAR = new TarArchiverFactory(FilePath$TarCompression.NONE);
    /** ArchiverFactory.ZIP. */
    public static final ArchiverFactory ZIP = new ZipArchiverFactory(null, new OpenOption[0]);

    /** Mirror of ArchiverFactory$TarArchiverFactory. */
    public static final class TarArchiverFactory extends ArchiverFactory {
        private static final long serialVersionUID = 1L;
        public final FilePath$TarCompression method;

        public TarArchiverFactory(FilePath$TarCompression method) {
            this.method = method;
        }
    }

    /** Mirror of ArchiverFactory$ZipArchiverFactory; {@code prefix} null means none. */
    public static final class ZipArchiverFactory extends ArchiverFactory {
        private static final long serialVersionUID = 1L;
        public final String prefix;
        public final OpenOption[] openOptions;

        public ZipArchiverFactory(String prefix, OpenOption[] openOptions) {
            this.prefix = prefix;
            this.openOptions = openOptions;
        }
    }
}
