package io.edgeplane.proto;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The address parser against an independent oracle: the dotted-quad grammar written as a regular expression (each
 * octet 0..255 in canonical decimal, no sign, no leading zero) and the value summed from its groups. Random strings
 * over digits, dots and near-miss characters, plus random valid addresses with one octet mangled.
 */
class Ipv4AddressTest
{
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
    private static final Pattern QUAD = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);

    /** The oracle: the address, or null when the grammar refuses the text. */
    private static Long oracle(final String text)
    {
        final Matcher m = QUAD.matcher(text);
        if (!m.matches())
        {
            return null;
        }
        long value = 0;
        for (int g = 1; g <= 4; g++)
        {
            value = value * 256 + Integer.parseInt(m.group(g));
        }
        return value;
    }

    private static void check(final String text)
    {
        final Long expected = oracle(text);
        if (expected == null)
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Address.parse(text), "accepted " + text);
            assertTrue(ex.getMessage().startsWith("not an IPv4 address: " + text), ex.getMessage());
        }
        else
        {
            assertEquals(expected.intValue(), Ipv4Address.parse(text), text);
            assertEquals(text, Ipv4Address.format(Ipv4Address.parse(text)), "canonical form reads back");
        }
    }

    @Test
    void shouldAcceptExactlyTheCanonicalDottedQuads()
    {
        final SplittableRandom random = new SplittableRandom(20261123);
        final String alphabet = "0123456789....+- x";
        int accepted = 0;
        for (int i = 0; i < 200_000; i++)
        {
            final StringBuilder text = new StringBuilder();
            final int length = random.nextInt(1, 17);
            for (int c = 0; c < length; c++)
            {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            check(text.toString());
            if (oracle(text.toString()) != null)
            {
                accepted++;
            }
        }
        for (int i = 0; i < 100_000; i++)
        {
            final int address = random.nextInt();
            final String[] octets = Ipv4Address.format(address).split("\\.");
            final int which = random.nextInt(4);
            switch (random.nextInt(5))
            {
                case 0 -> octets[which] = "0" + octets[which];
                case 1 -> octets[which] = String.valueOf(Integer.parseInt(octets[which]) + 256);
                case 2 -> octets[which] = "";
                case 3 -> octets[which] = "+" + octets[which];
                default ->
                {
                    // Left valid.
                }
            }
            check(String.join(".", octets));
            if (oracle(String.join(".", octets)) != null)
            {
                accepted++;
            }
        }
        assertTrue(accepted > 20_000, "too few valid cases to mean anything: " + accepted);
    }

    @Test
    void shouldNameTheLeadingZeroAndTheOctetOverRange()
    {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("010.1.1.1")).getMessage()
            .contains("octet 010 has a leading zero"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("10.1.1.00")).getMessage()
            .contains("octet 00 has a leading zero"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("10.256.1.1")).getMessage()
            .contains("octet 256 > 255"));
        assertEquals(0, Ipv4Address.parse("0.0.0.0"));
        assertEquals(0xFFFFFFFF, Ipv4Address.parse("255.255.255.255"));
    }
}
