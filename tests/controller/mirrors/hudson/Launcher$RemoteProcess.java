package hudson;

/** Mirror of the interface Launcher$RemoteProcess, the type of the agent's exported process proxy. */
public interface Launcher$RemoteProcess {
    int join();

    void kill();

    boolean isAlive();

    Launcher$IOTriplet getIOtriplet();
}
