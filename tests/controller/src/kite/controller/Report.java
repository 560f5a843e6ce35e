package kite.controller;

import java.util.concurrent.atomic.AtomicInteger;

/** Check results of one controller run; the process exit status is 1 when any check failed. */
final class Report {
    private static final AtomicInteger passed = new AtomicInteger();
    private static final AtomicInteger failed = new AtomicInteger();
    static volatile boolean verbose = true;

    private Report() {}

    static void pass(String what) {
        passed.incrementAndGet();
        if (verbose) {
            System.out.println("PASS " + what);
        }
    }

    static void fail(String what) {
        failed.incrementAndGet();
        System.out.println("FAIL " + what);
    }

    static void info(String what) {
        System.out.println("---- " + what);
    }

    static void check(boolean ok, String what) {
        if (ok) {
            pass(what);
        } else {
            fail(what);
        }
    }

    static void equal(Object expected, Object actual, String what) {
        if (expected == null ? actual == null : expected.equals(actual)) {
            pass(what + " = " + actual);
        } else {
            fail(what + ": expected " + expected + ", got " + actual);
        }
    }

    static int passed() {
        return passed.get();
    }

    static int failed() {
        return failed.get();
    }
}
