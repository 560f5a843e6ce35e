package hudson.remoting;

import java.io.Serializable;
import java.net.URL;

/** Mirror of remoting's PreloadJarTask2 (jar preloading into the agent's remote class loader). */
public final class PreloadJarTask2 implements Serializable {
    private static final long serialVersionUID = -773448303394727271L;
    public final URL[] jars;
    public final byte[][] contents;

    public PreloadJarTask2(URL[] jars, byte[][] contents) {
        this.jars = jars;
        this.contents = contents;
    }
}
