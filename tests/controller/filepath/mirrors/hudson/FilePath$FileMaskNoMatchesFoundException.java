package hudson;

/**
 * Mirror of FilePath$FileMaskNoMatchesFoundException, what ValidateAntFileMask throws when its
 * bound runs out before a match. Callers catch it as an InterruptedException.
 */
public final class FilePath$FileMaskNoMatchesFoundException extends InterruptedException {
    private static final long serialVersionUID = 1L;

    public FilePath$FileMaskNoMatchesFoundException(String message) {
        super(message);
    }
}
