using System.Text.Encodings.Web;

namespace Hivelet.Text;

/// <summary>
/// Escapes strings as Go's json.Encoder does with SetEscapeHTML(false), which is what Docker's
/// template `json` function uses: only quote, backslash, control characters and U+2028/U+2029 are
/// escaped (short forms where Go has them, else \u00xx in lower-case hex); &lt;, &gt;, &amp; and
/// every other character, emoji included, stay literal. The built-in relaxed encoder still escapes
/// characters outside the BMP and DEL, and writes upper-case hex.
/// </summary>
public sealed class GoJsonEncoder : JavaScriptEncoder
{
    public static readonly GoJsonEncoder Instance = new();

    private GoJsonEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar is '"' or '\\' or 0x2028 or 0x2029;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        for (int i = 0; i < span.Length; i++)
        {
            char c = span[i];
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }
            // A lone surrogate is handed to the base class, which substitutes U+FFFD as Go does for invalid text.
            if (char.IsSurrogate(c) || WillEncode(c))
                return i;
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var output = new Span<char>(buffer, bufferLength);
        ReadOnlySpan<char> text = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\b' => "\\b",
            '\f' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when WillEncode(unicodeScalar) => $"\\u{unicodeScalar:x4}",
            _ => char.ConvertFromUtf32(unicodeScalar),
        };
        if (!text.TryCopyTo(output))
        {
            numberOfCharactersWritten = 0;
            return false;
        }
        numberOfCharactersWritten = text.Length;
        return true;
    }
}
