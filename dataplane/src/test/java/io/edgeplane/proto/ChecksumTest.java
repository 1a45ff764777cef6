package io.edgeplane.proto;

import io.edgeplane.testing.Frames;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Full and incremental checksums against the naive RFC 1071 implementation in the test helpers. */
class ChecksumTest
{
    @Test
    void theBranchFreeFoldShouldEqualTheCarryLoopForAnySum()
    {
        final Random random = new Random(5);
        for (int i = 0; i < 1_000_000; i++)
        {
            final long value = switch (i % 4)
            {
                case 0 -> random.nextLong() >>> 1;
                case 1 -> random.nextLong() >>> (1 + random.nextInt(62));
                case 2 -> 0xFFFFL * random.nextInt(1 << 20) + random.nextInt(3);
                default -> i;
            };
            long loop = value;
            while ((loop >>> 16) != 0)
            {
                loop = (loop & 0xFFFF) + (loop >>> 16);
            }
            assertEquals(loop, Checksum.fold(value), Long.toHexString(value));
        }
    }

    @Test
    void summedDeltasShouldEqualFieldByFieldUpdates()
    {
        final Random random = new Random(6);
        for (int i = 0; i < 100_000; i++)
        {
            final int checksum = random.nextInt(0x10000);
            final int a = random.nextInt();
            final int b = random.nextInt();
            final int p = random.nextInt(0x10000);
            final int q = random.nextInt(0x10000);
            final int stepwise = Checksum.adjust16(Checksum.adjust32(checksum, a, b), p, q);
            assertEquals(stepwise, Checksum.apply(checksum, Checksum.delta32(a, b) + Checksum.delta16(p, q)));
        }
    }

    @Test
    void shouldMatchNaiveSumForEveryLengthAndOffset()
    {
        final Random random = new Random(7);
        for (int length = 0; length < 300; length++)
        {
            final byte[] data = new byte[length + 3];
            random.nextBytes(data);
            for (int offset = 0; offset < 3; offset++)
            {
                final int expected = Frames.naiveChecksum(data, offset, length, 0);
                final int actual = Checksum.finish(Checksum.sum(new UnsafeBuffer(data), offset, length, 0));
                assertEquals(expected, actual, "length " + length + " offset " + offset);
            }
        }
    }

    @Test
    void shouldEqualFullRecomputationAfterIncrementalWordAndAddressUpdates()
    {
        final Random random = new Random(11);
        for (int i = 0; i < 100_000; i++)
        {
            final byte[] data = new byte[20];
            random.nextBytes(data);
            data[10] = 0;
            data[11] = 0;
            final int original = Frames.naiveChecksum(data, 0, 20, 0);
            // Change a 16-bit word and a 32-bit field, then compare with recomputation.
            final int oldWord = (data[8] & 0xFF) << 8 | (data[9] & 0xFF);
            final int newWord = random.nextInt(65536);
            data[8] = (byte)(newWord >>> 8);
            data[9] = (byte)newWord;
            final int oldAddress = (data[12] & 0xFF) << 24 | (data[13] & 0xFF) << 16 | (data[14] & 0xFF) << 8 |
                (data[15] & 0xFF);
            final int newAddress = random.nextInt();
            data[12] = (byte)(newAddress >>> 24);
            data[13] = (byte)(newAddress >>> 16);
            data[14] = (byte)(newAddress >>> 8);
            data[15] = (byte)newAddress;
            final int incremental = Checksum.adjust32(Checksum.adjust16(original, oldWord, newWord), oldAddress,
                newAddress);
            final int full = Frames.naiveChecksum(data, 0, 20, 0);
            // RFC 1624: the two may differ only in the representation of zero (0x0000 vs 0xFFFF).
            assertEquals(full == 0xFFFF ? 0 : full, incremental == 0xFFFF ? 0 : incremental, "iteration " + i);
        }
    }

    @Test
    void shouldKeepUdpZeroChecksumMeaningNone()
    {
        assertEquals(0, Checksum.adjustUdp32(0, 0x0A000001, 0xC0A80001));
        assertEquals(0, Checksum.adjustUdp16(0, 1234, 4321));
    }

    @Test
    void shouldNeverProduceZeroForAUdpChecksumInUse()
    {
        // A checksum that would become 0x0000 after the update must be sent as 0xFFFF (RFC 768).
        final int oldWord = 0x1234;
        for (int newWord = 0; newWord < 65536; newWord++)
        {
            final int updated = Checksum.adjustUdp16(0xABCD, oldWord, newWord);
            if (updated == 0)
            {
                throw new AssertionError("zero UDP checksum for new word " + newWord);
            }
        }
    }
}
