package io.edgeplane.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TextFilesTest
{
    @TempDir
    Path tmp;

    private static List<String> byBufferedReader(final String text) throws Exception
    {
        final List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new StringReader(text)))
        {
            String line;
            while ((line = reader.readLine()) != null)
            {
                lines.add(line);
            }
        }
        return lines;
    }

    private List<String> byTextFiles(final Path path, final int maxChars) throws Exception
    {
        final List<String> lines = new ArrayList<>();
        try (TextFiles.Lines reader = TextFiles.lines(path, maxChars))
        {
            String line;
            while ((line = reader.next()) != null)
            {
                lines.add(line);
                assertEquals(lines.size(), reader.number(), "line number");
            }
        }
        return lines;
    }

    @Test
    void shouldSplitLinesAsBufferedReaderDoes() throws Exception
    {
        // Random texts of \n, \r, \r\n, empty lines, multi-byte characters, with or without a last terminator,
        // some long enough that terminators (and a \r\n pair) fall on the 64 KiB read boundary.
        final Random random = new Random(7);
        final String[] pieces = {"\n", "\r", "\r\n", "a", "route", " ", "é", "漢", "\uD83D\uDE00", "#"};
        for (int round = 0; round < 300; round++)
        {
            final StringBuilder text = new StringBuilder();
            final int target = random.nextInt(4) == 0 ? 65_536 + random.nextInt(200_000) : random.nextInt(200);
            while (text.length() < target)
            {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            final Path file = tmp.resolve("lines-" + round + ".txt");
            Files.writeString(file, text, StandardCharsets.UTF_8);
            assertEquals(byBufferedReader(text.toString()), byTextFiles(file, Integer.MAX_VALUE - 8), "round " +
                round);
        }
        final Path boundary = tmp.resolve("boundary.txt");
        Files.writeString(boundary, "x".repeat(65_535) + "\r\n" + "y\r" + "\r\n");
        assertEquals(List.of("x".repeat(65_535), "y", ""), byTextFiles(boundary, 100_000));
    }

    @Test
    void shouldBoundEachLine() throws Exception
    {
        final Path file = tmp.resolve("long.txt");
        Files.writeString(file, "a".repeat(10) + "\n" + "b".repeat(11) + "\n");
        assertEquals(List.of("a".repeat(10), "b".repeat(11)), byTextFiles(file, 11));
        final TextFiles.TooLongException tooLong = assertThrows(TextFiles.TooLongException.class,
            () -> byTextFiles(file, 10));
        assertEquals("line 2 longer than 10 characters", tooLong.getMessage());
        final Path last = tmp.resolve("last.txt");
        Files.writeString(last, "c".repeat(70_000));
        assertThrows(TextFiles.TooLongException.class, () -> byTextFiles(last, 69_999));
        assertEquals(List.of("c".repeat(70_000)), byTextFiles(last, 70_000));
    }

    @Test
    void shouldReadAWholeFileUpToItsBoundAndStrictlyAsUtf8() throws Exception
    {
        final Path file = tmp.resolve("file.txt");
        Files.writeString(file, "{\"é\": 1}");
        final int bytes = (int)Files.size(file);
        assertEquals("{\"é\": 1}", TextFiles.read(file, bytes));
        assertEquals("larger than " + (bytes - 1) + " bytes",
            assertThrows(TextFiles.TooLongException.class, () -> TextFiles.read(file, bytes - 1)).getMessage());
        assertEquals("larger than 1 KiB", assertThrows(TextFiles.TooLongException.class,
            () -> TextFiles.read(writeBytes("k.txt", new byte[1025]), 1024)).getMessage());
        assertThrows(CharacterCodingException.class, () -> TextFiles.read(writeBytes("latin1.txt",
            new byte[] {'{', (byte)0xE9, '}'}), 100));
        assertThrows(CharacterCodingException.class, () -> byTextFiles(writeBytes("latin1-lines.txt",
            new byte[] {'a', '\n', (byte)0xE9, '\n'}), 100));
    }

    private Path writeBytes(final String name, final byte[] bytes) throws Exception
    {
        final Path path = tmp.resolve(name);
        Files.write(path, bytes);
        return path;
    }
}
