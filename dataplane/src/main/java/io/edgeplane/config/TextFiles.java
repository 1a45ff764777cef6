package io.edgeplane.config;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading the text files a user names (config, route file, key list, token) with a bound, so that a wrong path (a
 * capture given as the config, {@code /dev/zero}, a device or a pipe that never ends) is one clear error and never
 * the JVM running out of memory. UTF-8, strictly: malformed input is a
 * {@link java.nio.charset.CharacterCodingException}.
 */
public final class TextFiles
{
    /** The file (or a line of it) is longer than the bound. */
    public static final class TooLongException extends IOException
    {
        private static final long serialVersionUID = 1L;

        TooLongException(final String message)
        {
            super(message);
        }
    }

    private TextFiles()
    {
    }

    /** The whole file as text, when it holds at most {@code maxBytes} bytes. */
    public static String read(final Path path, final int maxBytes) throws IOException
    {
        final byte[] bytes;
        try (InputStream in = Files.newInputStream(path))
        {
            bytes = in.readNBytes(maxBytes + 1);
        }
        if (bytes.length > maxBytes)
        {
            throw new TooLongException("larger than " + size(maxBytes));
        }
        return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    }

    /** Lines of at most {@code maxChars} characters each (any number of them). */
    public static Lines lines(final Path path, final int maxChars) throws IOException
    {
        return new Lines(new InputStreamReader(Files.newInputStream(path), StandardCharsets.UTF_8.newDecoder()),
            maxChars);
    }

    /** A size as people write it: "64 MiB", "1 GiB", "1000 bytes". */
    public static String size(final int bytes)
    {
        return bytes % (1 << 30) == 0 ? (bytes >> 30) + " GiB" : bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" :
            bytes % (1 << 10) == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }

    /** One line at a time, split as {@link java.io.BufferedReader#readLine} splits them; {@link #number} is the last one's. */
    public static final class Lines implements Closeable
    {
        private final Reader reader;
        private final int maxChars;
        private final char[] buffer = new char[1 << 16];
        private final StringBuilder line = new StringBuilder();
        private int position;
        private int end;
        private boolean eof;
        private int number;

        private Lines(final Reader reader, final int maxChars)
        {
            this.reader = reader;
            this.maxChars = maxChars;
        }

        /** The next line without its terminator (\n, \r\n or \r), or null at the end of the file. */
        public String next() throws IOException
        {
            if (!fill())
            {
                return null;
            }
            number++;
            line.setLength(0);
            while (fill())
            {
                final int from = position;
                while (position < end && buffer[position] != '\n' && buffer[position] != '\r')
                {
                    position++;
                }
                if (line.length() + position - from > maxChars)
                {
                    throw new TooLongException("line " + number + " longer than " + maxChars + " characters");
                }
                line.append(buffer, from, position - from);
                if (position < end)
                {
                    if (buffer[position++] == '\r' && fill() && buffer[position] == '\n')
                    {
                        position++;
                    }
                    break;
                }
            }
            return line.toString();
        }

        public int number()
        {
            return number;
        }

        /** Characters left in the buffer, reading more when it is empty; false at the end of the file. */
        private boolean fill() throws IOException
        {
            while (position == end && !eof)
            {
                final int read = reader.read(buffer, 0, buffer.length);
                if (read < 0)
                {
                    eof = true;
                }
                else
                {
                    position = 0;
                    end = read;
                }
            }
            return position < end;
        }

        @Override
        public void close() throws IOException
        {
            reader.close();
        }
    }
}
