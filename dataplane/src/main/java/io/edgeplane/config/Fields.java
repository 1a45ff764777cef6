package io.edgeplane.config;

import io.edgeplane.proto.Ipv4Address;

/**
 * Parsing of the value types the resource records hold, for their JSON creators: each failure is an
 * {@link IllegalArgumentException} whose message starts with the field name, which {@link Json} turns into a
 * field path.
 */
public final class Fields
{
    private Fields()
    {
    }

    public static int address(final String text, final String field)
    {
        try
        {
            return Ipv4Address.parse(Json.required(text, field));
        }
        catch (final IllegalArgumentException ex)
        {
            throw rethrow(ex, field);
        }
    }

    /** {@code a.b.c.d/len} as {address, length}; {@code hostBitsAllowed} for interface addresses. */
    public static int[] prefix(final String text, final String field, final boolean hostBitsAllowed)
    {
        Json.required(text, field);
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            throw new IllegalArgumentException(field + ": expected address/prefix-length, got " + text);
        }
        final int address = address(text.substring(0, slash), field);
        final String lengthText = text.substring(slash + 1);
        if (lengthText.isEmpty() || lengthText.length() > 2 || !lengthText.chars().allMatch(Character::isDigit))
        {
            throw new IllegalArgumentException(field + ": bad prefix length in " + text);
        }
        final int length = Integer.parseInt(lengthText);
        if (length > 32)
        {
            throw new IllegalArgumentException(field + ": prefix length " + length + " not in 0..32 in " + text);
        }
        if (!hostBitsAllowed && (address & ~Ipv4Address.mask(length)) != 0)
        {
            throw new IllegalArgumentException(field + ": host bits set in " + text + " (did you mean " +
                Ipv4Address.format(address & Ipv4Address.mask(length)) + "/" + length + "?)");
        }
        return new int[] {address, length};
    }

    /** A unicast, non-zero MAC (a port's or a neighbor's). */
    public static long unicastMac(final String text, final String field)
    {
        final long mac;
        try
        {
            mac = Ipv4Address.parseMac(Json.required(text, field));
        }
        catch (final IllegalArgumentException ex)
        {
            throw rethrow(ex, field);
        }
        if ((mac & 0x0100_0000_0000L) != 0 || mac == 0)
        {
            throw new IllegalArgumentException(field + ": must be a unicast, non-zero MAC");
        }
        return mac;
    }

    public static int range(final Integer value, final int defaultValue, final int min, final int max,
        final String field)
    {
        final int v = value == null ? defaultValue : value;
        if (v < min || v > max)
        {
            throw new IllegalArgumentException(field + ": " + v + " not in " + min + ".." + max);
        }
        return v;
    }

    public static String prefixText(final int address, final int length)
    {
        return Ipv4Address.format(address) + "/" + length;
    }

    private static IllegalArgumentException rethrow(final IllegalArgumentException ex, final String field)
    {
        return ex.getMessage() != null && ex.getMessage().startsWith(field + ":") ? ex :
            new IllegalArgumentException(field + ": " + ex.getMessage(), ex);
    }
}
