package io.edgeplane.control.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenFileTest
{
    @TempDir
    Path tmp;

    @Test
    void shouldTakeTheFirstLineOfABoundedFile() throws Exception
    {
        final Path file = tmp.resolve("token");
        Files.writeString(file, "  4f1c0a9e \r\nsecond line\n");
        assertEquals("4f1c0a9e", GatewayCommand.token(null, file, "from-environment"));
        Files.writeString(file, "");
        assertEquals("", GatewayCommand.token(null, file, null));
        Files.write(file, new byte[GatewayCommand.MAX_TOKEN_FILE_BYTES + 1]);
        assertEquals("--token-file: cannot read " + file + " (larger than 64 KiB)",
            assertThrows(Main.UserError.class, () -> GatewayCommand.token(null, file, null)).getMessage());
        final Path zero = Path.of("/dev/zero");
        if (Files.isReadable(zero))
        {
            assertEquals("--token-file: cannot read /dev/zero (larger than 64 KiB)",
                assertThrows(Main.UserError.class, () -> GatewayCommand.token(null, zero, null)).getMessage());
        }
        assertEquals("from-option", GatewayCommand.token("from-option", null, "from-environment"));
    }
}
