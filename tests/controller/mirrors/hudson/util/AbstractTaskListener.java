package hudson.util;

import hudson.model.TaskListener;

/** Mirror of hudson.util.AbstractTaskListener, StreamTaskListener's superclass (no fields). */
public abstract class AbstractTaskListener implements TaskListener {
    private static final long serialVersionUID = 1L;
}
