package io.edgeplane.proto;

/**
 * Text form of IPv4 addresses and MACs for config, CLI and trace formatting: never used on the hot path.
 */
public final class Ipv4Address
{
    private Ipv4Address()
    {
    }

    /**
     * Parse dotted-quad strictly: four decimal octets 0..255, no leading '+', no empty parts, no leading zeros
     * ({@code 010} is 10 to some parsers and 8 to others, inet_aton's octal: refused, as Go and Python do).
     *
     * @throws IllegalArgumentException naming the bad input.
     */
    public static int parse(final String text)
    {
        if (text == null)
        {
            throw new IllegalArgumentException("missing IPv4 address");
        }
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 4)
        {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        int address = 0;
        for (final String part : parts)
        {
            if (part.isEmpty() || part.length() > 3)
            {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            int octet = 0;
            for (int i = 0; i < part.length(); i++)
            {
                final char c = part.charAt(i);
                if (c < '0' || c > '9')
                {
                    throw new IllegalArgumentException("not an IPv4 address: " + text);
                }
                octet = octet * 10 + (c - '0');
            }
            if (part.length() > 1 && part.charAt(0) == '0')
            {
                throw new IllegalArgumentException("not an IPv4 address: " + text + " (octet " + part +
                    " has a leading zero: decimal or octal is ambiguous)");
            }
            if (octet > 255)
            {
                throw new IllegalArgumentException("not an IPv4 address: " + text + " (octet " + octet + " > 255)");
            }
            address = (address << 8) | octet;
        }
        return address;
    }

    public static String format(final int address)
    {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." +
            (address & 0xFF);
    }

    public static StringBuilder append(final StringBuilder out, final int address)
    {
        return out.append(address >>> 24).append('.').append((address >>> 16) & 0xFF).append('.')
            .append((address >>> 8) & 0xFF).append('.').append(address & 0xFF);
    }

    public static int mask(final int prefixLength)
    {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    public static long parseMac(final String text)
    {
        if (text == null)
        {
            throw new IllegalArgumentException("missing MAC address");
        }
        final String[] parts = text.split("[:-]", -1);
        if (parts.length != 6)
        {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (final String part : parts)
        {
            if (part.length() != 2)
            {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            final int high = Character.digit(part.charAt(0), 16);
            final int low = Character.digit(part.charAt(1), 16);
            if (high < 0 || low < 0)
            {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            mac = (mac << 8) | (high << 4) | low;
        }
        return mac;
    }

    public static String formatMac(final long mac)
    {
        final StringBuilder out = new StringBuilder(17);
        for (int i = 5; i >= 0; i--)
        {
            final int octet = (int)(mac >>> (i * 8)) & 0xFF;
            out.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
            if (i > 0)
            {
                out.append(':');
            }
        }
        return out.toString();
    }
}
