package io.edgeplane.proto;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VXLAN header against the byte layout of RFC 7348 section 5, written out by hand. */
class VxlanFlyweightTest
{
    @Test
    void shouldWriteAndReadTheRfcLayout()
    {
        final byte[] bytes = new byte[8];
        final VxlanFlyweight vxlan = new VxlanFlyweight().wrap(new UnsafeBuffer(bytes), 0).header(0x123456);
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}, bytes);
        assertEquals(0x123456, vxlan.vni());
        assertTrue(vxlan.vniValid());
    }

    @Test
    void shouldIgnoreReservedBitsButRequireTheIFlag()
    {
        final byte[] bytes = {(byte)0xF7, 1, 2, 3, 0, 0, 42, (byte)0xFF};
        final VxlanFlyweight vxlan = new VxlanFlyweight().wrap(new UnsafeBuffer(bytes), 0);
        assertFalse(vxlan.vniValid(), "I flag clear");
        assertEquals(42, vxlan.vni(), "reserved byte after the VNI ignored");
        bytes[0] = (byte)0xFF;
        assertTrue(vxlan.vniValid());
    }
}
