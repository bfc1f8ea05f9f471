namespace Linkage.File1;

/// <summary>
/// Incremental UTF-8 validator fed one non-ASCII byte at a time, so a line is checked in full even where
/// the reader keeps only a capped prefix of an over-long value. Rejects overlong forms, surrogates and
/// code points above U+10FFFF, as <see cref="System.Text.Unicode.Utf8"/> does.
/// </summary>
internal struct Utf8LineValidator
{
    private int _pending;
    private byte _low;
    private byte _high;

    /// <summary>Feeds a byte of 0x80 or above; false when it breaks the encoding.</summary>
    public bool AcceptNonAscii(byte b)
    {
        if (_pending > 0)
        {
            if (b < _low || b > _high)
            {
                _pending = 0;
                return StartSequence(b) && false;
            }

            _pending--;
            _low = 0x80;
            _high = 0xBF;
            return true;
        }

        return StartSequence(b);
    }

    /// <summary>An ASCII byte (including a delimiter) arrived: false when a multi-byte sequence was cut short.</summary>
    public bool AcceptAscii()
    {
        if (_pending == 0)
        {
            return true;
        }

        _pending = 0;
        return false;
    }

    public void Reset() => _pending = 0;

    private bool StartSequence(byte b)
    {
        (_pending, _low, _high) = b switch
        {
            >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF),
            0xE0 => (2, (byte)0xA0, (byte)0xBF),
            0xED => (2, (byte)0x80, (byte)0x9F),
            >= 0xE1 and <= 0xEF => (2, (byte)0x80, (byte)0xBF),
            0xF0 => (3, (byte)0x90, (byte)0xBF),
            >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF),
            0xF4 => (3, (byte)0x80, (byte)0x8F),
            _ => (0, (byte)0, (byte)0),
        };
        return _pending > 0;
    }
}
