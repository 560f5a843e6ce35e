package kite.controller;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small tar reader and writer for the checks, independent of Kite's libarchive. The reader
 * parses ustar and GNU headers with ././@LongLink names and link targets (types L and K), pax
 * path and linkpath records, and base-256 sizes. The writer emits plain ustar entries, which is
 * enough for the archives the controller builds (unstash input, hostile archives).
 */
final class TarFiles {
    static final int BLOCK = 512;

    /** One tar entry: its name as stored, type flag, permission bits, size, mtime, link target and data. */
    record Entry(String name, char type, int mode, long size, long mtime, String linkName, byte[] data) {
        boolean isDirectory() {
            return type == '5';
        }

        boolean isSymlink() {
            return type == '2';
        }

        boolean isFile() {
            return type == '0' || type == '\0';
        }

        static Entry file(String name, int mode, byte[] data) {
            return new Entry(name, '0', mode, data.length, 1_700_000_000L, "", data);
        }

        static Entry directory(String name, int mode) {
            return new Entry(name.endsWith("/") ? name : name + "/", '5', mode, 0, 1_700_000_000L, "", new byte[0]);
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, '2', 0777, 0, 1_700_000_000L, target, new byte[0]);
        }
    }

    private TarFiles() {}

    /** Reads every entry up to the end-of-archive block; throws on a bad checksum or a short stream. */
    static List<Entry> read(InputStream in) throws IOException {
        List<Entry> entries = new ArrayList<>();
        String longName = null;
        String longLink = null;
        byte[] header = new byte[BLOCK];
        while (true) {
            if (!readFully(in, header)) {
                throw new EOFException("tar stream ended without an end-of-archive block after " + entries.size() + " entries");
            }
            if (isZero(header)) {
                return entries;
            }
            long stored = octal(header, 148, 8);
            long sum = 0;
            for (int i = 0; i < BLOCK; i++) {
                sum += (i >= 148 && i < 156) ? ' ' : (header[i] & 0xff);
            }
            if (sum != stored) {
                throw new IOException("tar header " + (entries.size() + 1) + " has checksum " + stored + ", computed " + sum);
            }
            char type = (char) (header[156] & 0xff);
            long size = number(header, 124, 12);
            byte[] data = readData(in, size);
            if (type == 'L') {
                longName = cString(data, 0, data.length);
                continue;
            }
            if (type == 'K') {
                longLink = cString(data, 0, data.length);
                continue;
            }
            if (type == 'x') {
                for (String[] kv : pax(data)) {
                    if (kv[0].equals("path")) {
                        longName = kv[1];
                    } else if (kv[0].equals("linkpath")) {
                        longLink = kv[1];
                    }
                }
                continue;
            }
            String name = cString(header, 0, 100);
            String magic = new String(header, 257, 6, StandardCharsets.US_ASCII);
            if (magic.equals("ustar\0")) {
                String prefix = cString(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
            }
            if (longName != null) {
                name = longName;
            }
            String link = longLink != null ? longLink : cString(header, 157, 100);
            entries.add(new Entry(name, type, (int) (octal(header, 100, 8) & 07777), size, number(header, 136, 12), link, data));
            longName = null;
            longLink = null;
        }
    }

    /** Writes ustar entries and the two end-of-archive blocks, padded to a 10 KiB record. */
    static byte[] write(List<Entry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Entry e : entries) {
            byte[] header = new byte[BLOCK];
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 100) {
                throw new IllegalArgumentException("ustar name over 100 bytes: " + e.name());
            }
            System.arraycopy(name, 0, header, 0, name.length);
            putOctal(header, 100, 8, e.mode());
            putOctal(header, 108, 8, 0);
            putOctal(header, 116, 8, 0);
            putOctal(header, 124, 12, e.isFile() ? e.data().length : 0);
            putOctal(header, 136, 12, e.mtime());
            header[156] = (byte) e.type();
            byte[] link = e.linkName().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(link, 0, header, 157, Math.min(100, link.length));
            System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 8);
            Arrays.fill(header, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : header) {
                sum += b & 0xff;
            }
            putOctal(header, 148, 7, sum);
            out.writeBytes(header);
            if (e.isFile()) {
                out.writeBytes(e.data());
                out.writeBytes(new byte[(BLOCK - e.data().length % BLOCK) % BLOCK]);
            }
        }
        out.writeBytes(new byte[2 * BLOCK]);
        int record = 20 * BLOCK;
        out.writeBytes(new byte[(record - out.size() % record) % record]);
        return out.toByteArray();
    }

    private static boolean readFully(InputStream in, byte[] b) throws IOException {
        int n = in.readNBytes(b, 0, b.length);
        if (n == 0) {
            return false;
        }
        if (n < b.length) {
            throw new EOFException("tar stream ended inside a header (" + n + " of " + b.length + " bytes)");
        }
        return true;
    }

    private static byte[] readData(InputStream in, long size) throws IOException {
        if (size < 0 || size > (256L << 20)) {
            throw new IOException("tar entry size " + size + " is outside what the checks read (0..256 MiB)");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length != size) {
            throw new EOFException("tar entry data ended after " + data.length + " of " + size + " bytes");
        }
        long padding = (BLOCK - size % BLOCK) % BLOCK;
        in.skipNBytes(padding);
        return data;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) {
        String s = cString(b, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }

    /** Parses an octal field, or a base-256 one when the high bit of its first byte is set (star and GNU). */
    private static long number(byte[] b, int off, int len) {
        if ((b[off] & 0x80) == 0) {
            return octal(b, off, len);
        }
        long v = b[off] & 0x7f;
        for (int i = 1; i < len; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    private static void putOctal(byte[] b, int off, int len, long value) {
        String s = Long.toOctalString(value);
        s = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
        byte[] digits = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, b, off, len - 1);
        b[off + len - 1] = 0;
    }

    /** Parses pax records "LEN key=value\n". */
    private static List<String[]> pax(byte[] data) {
        List<String[]> records = new ArrayList<>();
        int pos = 0;
        while (pos < data.length) {
            int space = pos;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            int len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            String record = new String(data, space + 1, len - (space + 1 - pos) - 1, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            records.add(new String[] {record.substring(0, eq), record.substring(eq + 1)});
            pos += len;
        }
        return records;
    }
}
