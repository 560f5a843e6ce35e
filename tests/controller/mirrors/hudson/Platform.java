package hudson;

/** Mirror of Jenkins' Platform enum (written by the agent inside EnvVars). */
public enum Platform {
    WINDOWS,
    UNIX,
    DARWIN
}
