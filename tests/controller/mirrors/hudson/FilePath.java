package hudson;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/** Mirror of Jenkins' FilePath: a path plus whether it is local to the side that wrote it. */
public final class FilePath implements Serializable {
    private static final long serialVersionUID = 1L;

    public String remote;
    /** True when the writer considered the path local to itself (written as one boolean). */
    public transient boolean localToWriter;

    public FilePath(String remote) {
        this.remote = remote;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.defaultWriteObject();
        oos.writeBoolean(localToWriter);
    }

    private void readObject(ObjectInputStream ois) throws IOException, ClassNotFoundException {
        ois.defaultReadObject();
        localToWriter = ois.readBoolean();
    }

    /** Mirror of FilePath$FileCallable. */
    public interface FileCallable extends Serializable {}

    /** Mirror of FilePath$FileCallableWrapper: how FilePath.act sends a file callable. */
    public static final class FileCallableWrapper implements Serializable {
        private static final long serialVersionUID = 1L;
        public final FileCallable callable;
        public final FilePath filePath;

        public FileCallableWrapper(FileCallable callable, FilePath filePath) {
            this.callable = callable;
            this.filePath = filePath;
        }
    }

    /** Mirror of the inner class FilePath$CallableWith (FilePath.asCallableWith, used by the disk monitors). */
    public final class CallableWith implements Serializable {
        private static final long serialVersionUID = 1L;
        public final FileCallable task;

        public CallableWith(FileCallable task) {
            this.task = task;
        }
    }
}
