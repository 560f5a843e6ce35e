package hudson.remoting;

import java.io.IOException;

/** Mirror holding the IClassLoader interface that class-loader proxies implement. */
public final class RemoteClassLoader {
    private RemoteClassLoader() {}

    /** Mirror of RemoteClassLoader$IClassLoader (the methods the controller calls on an agent loader). */
    public interface IClassLoader {
        byte[] fetch(String className) throws ClassNotFoundException;

        byte[] getResource(String name) throws IOException;

        String getName() throws IOException;
    }
}
