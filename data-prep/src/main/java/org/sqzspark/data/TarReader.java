package org.sqzspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Minimal sequential reader of tar archives (ustar, with GNU long names and pax {@code path}
 * records), enough to read the members of the official CIFAR-10 archive without another
 * dependency. It reads from one forward-only stream, so a gzip-compressed archive is decompressed
 * exactly once.
 *
 * <p>Header layout (POSIX ustar, 512-byte blocks): name at 0..100, size in octal at 124..136,
 * checksum at 148..156, type flag at 156, magic "ustar" at 257, name prefix at 345..500. Member data
 * follows its header and is padded to the next 512-byte boundary.
 */
final class TarReader {

    /** One member header. */
    record Entry(String name, long size, char type) {
        /** Regular file: type '0', or NUL in pre-POSIX archives. */
        boolean isFile() {
            return type == '0' || type == '\0';
        }
    }

    private static final int BLOCK = 512;

    private final InputStream in;
    private final String source;
    private final byte[] header = new byte[BLOCK];
    private final byte[] scratch = new byte[8192];
    private long remaining;
    private long padding;

    /**
     * @param in     the (decompressed) archive bytes; not closed by this reader
     * @param source the archive's URI, for error messages
     */
    TarReader(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    /**
     * Skips what is left of the current member and returns the next one, or {@code null} at the end
     * of the archive.
     */
    Entry next() throws IOException {
        String longName = null;
        while (true) {
            skipFully(remaining + padding);
            remaining = 0;
            padding = 0;
            int got = in.readNBytes(header, 0, BLOCK);
            if (got == 0) {
                // Some writers omit the two zero blocks that mark the end.
                return null;
            }
            if (got < BLOCK) {
                throw truncated();
            }
            if (isZeroBlock()) {
                return null;
            }
            verifyChecksum();
            long size = parseNumber(124, 12, "size");
            char type = (char) (header[156] & 0xFF);
            String name = longName != null ? longName : headerName();
            longName = null;
            remaining = size;
            padding = (BLOCK - size % BLOCK) % BLOCK;
            switch (type) {
                case 'L' -> longName = trimNul(readMemberText());
                case 'x' -> longName = paxPath(readMemberText());
                case 'g' -> {
                    // global pax header: nothing this reader needs
                }
                default -> {
                    return new Entry(normalize(name), size, type);
                }
            }
        }
    }

    /** Bytes of the current member; reading stops at its end. Closing it does not close the archive. */
    InputStream entryStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                if (remaining == 0) {
                    return -1;
                }
                int b = in.read();
                if (b < 0) {
                    throw truncated();
                }
                remaining--;
                return b;
            }

            @Override
            public int read(byte[] buffer, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (remaining == 0) {
                    return -1;
                }
                int n = in.read(buffer, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw truncated();
                }
                remaining -= n;
                return n;
            }
        };
    }

    private String readMemberText() throws IOException {
        if (remaining > 1 << 20) {
            throw new DataInputException(source + ": tar extended header of " + remaining
                    + " bytes is implausibly large; the archive is corrupt, download or copy it again");
        }
        byte[] text = in.readNBytes((int) remaining);
        if (text.length < remaining) {
            throw truncated();
        }
        remaining = 0;
        return new String(text, StandardCharsets.UTF_8);
    }

    /** Extracts {@code path} from pax records of the form "{@code <length> <key>=<value>\n}". */
    private static String paxPath(String records) {
        String path = null;
        for (String line : records.split("\n")) {
            int space = line.indexOf(' ');
            int equals = line.indexOf('=');
            if (space > 0 && equals > space && line.substring(space + 1, equals).equals("path")) {
                path = line.substring(equals + 1);
            }
        }
        return path;
    }

    private String headerName() {
        String name = text(0, 100);
        // ustar stores long names as prefix + "/" + name
        if (text(257, 5).equals("ustar")) {
            String prefix = text(345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
        }
        return name;
    }

    private static String normalize(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }

    private String text(int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static String trimNul(String s) {
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }

    private long parseNumber(int offset, int length, String field) {
        if ((header[offset] & 0x80) != 0) {
            // GNU base-256 encoding for values that do not fit in octal digits
            long value = header[offset] & 0x7F;
            for (int i = offset + 1; i < offset + length; i++) {
                value = (value << 8) | (header[i] & 0xFF);
            }
            return value;
        }
        long value = 0;
        boolean digits = false;
        for (int i = offset; i < offset + length; i++) {
            byte b = header[i];
            if (b == 0 || (b == ' ' && digits)) {
                break;
            }
            if (b == ' ') {
                continue;
            }
            if (b < '0' || b > '7') {
                throw new DataInputException(String.format(Locale.ROOT,
                        "%s: tar header %s field holds '%s', expected octal digits; the file is not a tar archive "
                                + "or is corrupt, download or copy %s again", source, field, text(offset, length),
                        CifarLayout.ARCHIVE_NAME));
            }
            value = value * 8 + (b - '0');
            digits = true;
        }
        return value;
    }

    private void verifyChecksum() {
        long stored = parseNumber(148, 8, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            boolean checksumField = i >= 148 && i < 156;
            unsigned += checksumField ? ' ' : header[i] & 0xFF;
            signed += checksumField ? ' ' : header[i];
        }
        // Some old writers summed signed bytes; accept either.
        if (stored != unsigned && stored != signed) {
            throw new DataInputException(String.format(Locale.ROOT,
                    "%s: tar header checksum is %d, expected %d; the file is not a tar archive or is corrupt, "
                            + "download or copy %s again", source, stored, unsigned, CifarLayout.ARCHIVE_NAME));
        }
    }

    private boolean isZeroBlock() {
        for (byte b : header) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void skipFully(long n) throws IOException {
        // read rather than skip(): skip() may return 0 both at the end and mid-stream
        long left = n;
        while (left > 0) {
            int got = in.read(scratch, 0, (int) Math.min(scratch.length, left));
            if (got < 0) {
                throw truncated();
            }
            left -= got;
        }
    }

    private DataInputException truncated() {
        return new DataInputException(source + ": the tar archive ends in the middle of a member; "
                + "it is truncated, download or copy " + CifarLayout.ARCHIVE_NAME + " again");
    }
}
