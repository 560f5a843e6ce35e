package hudson;

/** Mirror of the enum FilePath$TarCompression; enum constants travel by name only. */
public enum FilePath$TarCompression {
    NONE,
    GZIP
}
