package kite.controller;

import hudson.EnvVars;
import hudson.FilePath;
import hudson.Platform;
import hudson.logging.LogRecorder;
import hudson.model.Computer;
import hudson.model.Slave;
import hudson.node_monitors.ArchitectureMonitor;
import hudson.node_monitors.DiskSpaceMonitorDescriptor;
import hudson.node_monitors.ResponseTimeMonitor;
import hudson.node_monitors.SwapSpaceMonitor;
import hudson.node_monitors.TemporarySpaceMonitor;
import hudson.remoting.Channel;
import hudson.remoting.PingThread;
import hudson.remoting.PreloadJarTask2;
import hudson.slaves.ChannelPinger;
import hudson.slaves.SlaveComputer;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URL;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.logging.Level;
import jenkins.slaves.StandardOutputSwapper;
import jenkins.slaves.restarter.JnlpSlaveRestarterInstaller;
import jenkins.slaves.restarter.SlaveRestarter;
import jenkins.slaves.restarter.UnixSlaveRestarter;
import jenkins.slaves.restarter.WinswSlaveRestarter;
import jenkins.util.SystemProperties;

/**
 * The callables a controller sends while taking an agent online (SlaveComputer.setChannel, the
 * preOnline and onOnline listeners) and the node monitors, each answer checked in the JDK.
 */
final class ConnectSequence {
    static final String MINIMUM_VERSION = "3176.v207ec082a_8c0";
    static final String EXPECTED_VERSION = "3386.v353e57a_1b_ea_0";
    static final String FALLBACK_HOST = "kite-test-host.example";

    private final ControllerChannel ch;
    private final Options o;

    ConnectSequence(ControllerChannel ch, Options o) {
        this.ch = ch;
        this.o = o;
    }

    /** Calls and returns the decoded value, reporting a failure when the agent threw. */
    Object value(Serializable callable) throws Exception {
        ControllerChannel.Outcome r = ch.call(callable, o.callTimeoutSeconds * 1000L);
        if (r.failed()) {
            Report.fail(callable.getClass().getName() + " threw " + (r.raw() != null ? r.raw() : r.proxy()));
            return null;
        }
        return r.value();
    }

    private void expect(Serializable callable, Object expected) throws Exception {
        Report.equal(expected, value(callable), simpleName(callable));
    }

    static String simpleName(Object o) {
        String n = o.getClass().getName();
        return n.substring(n.lastIndexOf('.') + 1);
    }

    /** Sends the SlaveComputer.setChannel callables in the controller's order and checks each result. */
    void goOnline() throws Exception {
        Object version = value(new SlaveComputer.SlaveVersion());
        Report.equal(EXPECTED_VERSION, version, "SlaveVersion");
        Report.check(version instanceof String s && compareVersions(s, MINIMUM_VERSION) >= 0,
                "SlaveVersion " + version + " is at least " + MINIMUM_VERSION);
        expect(new SlaveComputer.CommunicationProtocol(), "WebSocket");
        expect(new SlaveComputer.DetectOS(), Boolean.TRUE);
        Object charset = value(new SlaveComputer.DetectDefaultCharset());
        Report.check(charset instanceof String s && Charset.isSupported(s), "DetectDefaultCharset returns a Java charset name: " + charset);
        if (o.agentCwd != null) {
            expect(new SlaveComputer.AbsolutePath("relative/dir"), Path.of(o.agentCwd, "relative/dir").toString());
        }
        expect(new SlaveComputer.SlaveInitializer(1024), null);
        expect(new ChannelPinger.SetUpRemotePing(o.agentPingInterval, o.agentPingTimeout), null);
        expect(new LogRecorder.SetLevel("hudson.model.Run", Level.FINE), null);
        Map<String, String> props = new HashMap<>();
        props.put("host.name", FALLBACK_HOST);
        props.put("hudson.ProxyConfiguration.DEFAULT_CONNECT_TIMEOUT_MILLIS", null);
        expect(new SystemProperties.AgentCopier.CopySystemProperties(props), null);
        expect(new StandardOutputSwapper.ChannelSwapper(), Boolean.FALSE);
        List<SlaveRestarter> restarters = new ArrayList<>(List.of(new UnixSlaveRestarter(), new WinswSlaveRestarter()));
        expect(new JnlpSlaveRestarterInstaller.FindEffectiveRestarters(restarters), null);
    }

    /** Sends the remoting-internal callables a controller may send and checks each result. */
    void remotingCallables() throws Exception {
        expect(new PingThread.Ping(), null);
        expect(new Channel.IOSyncer(), null);
        expect(new Channel.SetMaximumBytecodeLevel((short) 17), null);
        expect(new PreloadJarTask2(new URL[] {new URL("file:/nonexistent/plugin.jar")}, new byte[][] {{1, 2, 3}}), Boolean.FALSE);
    }

    /** Sends the callables behind the node page and script console helpers and checks each result. */
    void onDemand() throws Exception {
        Object env = value(new SlaveComputer.ListFullEnvironment());
        Report.check(env != null && env.getClass() == TreeMap.class, "ListFullEnvironment returns java.util.TreeMap: " + className(env));
        if (env instanceof TreeMap<?, ?> m && o.envMarker != null) {
            String[] kv = o.envMarker.split("=", 2);
            Report.equal(kv[1], m.get(kv[0]), "ListFullEnvironment[" + kv[0] + "]");
        }
        Object log = value(new SlaveComputer.SlaveLogFetcher());
        Report.check(log instanceof List<?>, "SlaveLogFetcher returns a List: " + className(log));
        expect(new SlaveComputer.LoadingCount(false), 0);
        expect(new SlaveComputer.LoadingTime(true), 0L);
        expect(new SlaveComputer.LoadingPrefetchCacheCount(), 0);
        expect(new Computer.GetFallbackName(), FALLBACK_HOST);
        Object names = value(new Computer.ListPossibleNames());
        Report.check(names instanceof ArrayList<?>, "ListPossibleNames returns an ArrayList: " + className(names));
        if (names instanceof List<?> l) {
            Report.equal(localIpv4Addresses(), new TreeSet<>(l), "ListPossibleNames addresses");
        }
    }

    /** The six default node monitors; {@code previous} is echoed by the response-time round trip. */
    ResponseTimeMonitor.Data monitors(ResponseTimeMonitor.Data previous) throws Exception {
        String arch = System.getProperty("os.name") + " (" + System.getProperty("os.arch") + ")";
        expect(new ArchitectureMonitor.GetArchTask(), arch);

        long start = System.currentTimeMillis();
        Object clock = value(new Slave.GetClockDifference2(start));
        if (clock instanceof Slave.GetClockDifference3 c) {
            Report.equal(start, c.startTime, "GetClockDifference3.startTime");
            long skew = Math.abs(c.remoteTime - System.currentTimeMillis());
            Report.check(skew < 5000, "GetClockDifference3.remoteTime within 5 s of the controller clock (" + skew + " ms)");
        } else {
            Report.fail("GetClockDifference2 returned " + className(clock) + ", not Slave$GetClockDifference3");
        }

        if (o.workDir != null) {
            FilePath root = new FilePath(o.workDir);
            checkDiskSpace(value(root.new CallableWith(new DiskSpaceMonitorDescriptor.GetUsableSpace())),
                    new File(o.workDir).getCanonicalPath(), "disk space (CallableWith)");
            checkDiskSpace(value(new FilePath.FileCallableWrapper(new DiskSpaceMonitorDescriptor.GetUsableSpace(), root)),
                    new File(o.workDir).getCanonicalPath(), "disk space (FileCallableWrapper)");
            checkDiskSpace(value(root.new CallableWith(new TemporarySpaceMonitor.GetTempSpace())),
                    new File("/tmp").getCanonicalPath(), "temporary space");
        }

        Object memory = value(new SwapSpaceMonitor.MonitorTask());
        if (memory instanceof SwapSpaceMonitor.MemoryUsage2 m) {
            Map<String, Long> info = meminfo();
            Report.equal(info.get("MemTotal"), m.totalPhysicalMemory, "MemoryUsage2.totalPhysicalMemory");
            Report.equal(info.get("SwapTotal"), m.totalSwapSpace, "MemoryUsage2.totalSwapSpace");
            Report.check(m.availablePhysicalMemory > 0 && m.availablePhysicalMemory <= m.totalPhysicalMemory,
                    "MemoryUsage2.availablePhysicalMemory in (0, total]: " + m.availablePhysicalMemory);
            Report.check(m.availableSwapSpace >= 0 && m.availableSwapSpace <= m.totalSwapSpace,
                    "MemoryUsage2.availableSwapSpace in [0, total]: " + m.availableSwapSpace);
        } else {
            Report.fail("SwapSpaceMonitor$MonitorTask returned " + className(memory) + ", not SwapSpaceMonitor$MemoryUsage2");
        }

        long t0 = System.currentTimeMillis();
        Object step3 = value(new ResponseTimeMonitor.Step2(previous, t0));
        ResponseTimeMonitor.Data next = new ResponseTimeMonitor.Data(new long[] {System.currentTimeMillis() - t0, 7, 9});
        if (step3 instanceof ResponseTimeMonitor.Step3 s) {
            Report.equal(t0, s.start, "ResponseTimeMonitor$Step3.start");
            if (previous == null) {
                Report.equal(null, s.cur, "ResponseTimeMonitor$Step3.cur");
            } else {
                Report.check(s.cur != null && Arrays.equals(previous.past5, s.cur.past5),
                        "ResponseTimeMonitor$Step3.cur echoes Data " + Arrays.toString(previous.past5));
            }
        } else {
            Report.fail("ResponseTimeMonitor$Step2 returned " + className(step3) + ", not ResponseTimeMonitor$Step3");
        }

        Object env = value(new EnvVars.GetEnvVars());
        if (env instanceof EnvVars e) {
            Report.check(e.comparator() == String.CASE_INSENSITIVE_ORDER, "EnvVars uses String.CASE_INSENSITIVE_ORDER");
            Report.check(e.platform == null || e.platform == Platform.UNIX, "EnvVars.platform is UNIX or null: " + e.platform);
            if (o.envMarker != null) {
                String[] kv = o.envMarker.split("=", 2);
                Report.equal(kv[1], e.get(kv[0].toLowerCase()), "EnvVars[" + kv[0].toLowerCase() + "] (case-insensitive)");
            }
            Report.check(e.containsKey("PATH"), "EnvVars contains PATH");
        } else {
            Report.fail("EnvVars$GetEnvVars returned " + className(env) + ", not hudson.EnvVars");
        }
        return next;
    }

    private void checkDiskSpace(Object answer, String path, String what) throws IOException {
        if (!(answer instanceof DiskSpaceMonitorDescriptor.DiskSpace d)) {
            Report.fail(what + " returned " + className(answer) + ", not DiskSpaceMonitorDescriptor$DiskSpace");
            return;
        }
        File f = new File(path);
        Report.equal(path, d.path, what + " path");
        Report.equal(f.getTotalSpace(), d.totalSize, what + " totalSize");
        long usable = f.getUsableSpace();
        long tolerance = Math.max(64L << 20, usable / 20);
        Report.check(Math.abs(d.size - usable) <= tolerance, what + " size " + d.size + " within " + tolerance + " of " + usable);
        Report.check(d.threshold == 0 && d.warningThreshold == 0 && d.trigger == null, what + " thresholds unset");
    }

    static String className(Object o) {
        return o == null ? "null" : o.getClass().getName();
    }

    static Map<String, Long> meminfo() throws IOException {
        Map<String, Long> m = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            String[] p = line.split("[: ]+");
            if (p.length >= 2) {
                m.put(p[0], Long.parseLong(p[1]) * 1024);
            }
        }
        return m;
    }

    static TreeSet<String> localIpv4Addresses() throws IOException {
        TreeSet<String> s = new TreeSet<>();
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (!a.isLoopbackAddress() && a instanceof Inet4Address) {
                    s.add(a.getHostAddress());
                }
            }
        }
        return s;
    }

    /** Compares Jenkins remoting versions such as 3386.v353e57a_1b_ea_0 by their numeric first part. */
    static int compareVersions(String a, String b) {
        return Long.compare(leadingNumber(a), leadingNumber(b));
    }

    private static long leadingNumber(String v) {
        int i = 0;
        while (i < v.length() && Character.isDigit(v.charAt(i))) {
            i++;
        }
        return i == 0 ? -1 : Long.parseLong(v.substring(0, i));
    }
}
