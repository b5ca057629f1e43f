using System.Text;
using CsCheck;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>What a request was made hostile with. Each request carries exactly one kind, so failures are attributed.</summary>
public enum FuzzKind
{
    Baseline,
    MalformedJson,
    TruncatedBody,
    WrongTypes,
    HugeNumbers,
    LongStrings,
    ControlCharacters,
    InvalidUtf8,
    ChineseAndEmoji,
    SqlAndPathFragments,
    InvalidPeriods,
    DatesOutOfRange,
    DuplicateKeys,
    DeepNesting,
    OversizedBody,
    WrongContentType,
    HostilePathParameters,
    HostileQueryParameters,
    HostileHeaders,
    WrongMethod,
    CsvRaggedRows,
    CsvBadQuoting,
    CsvBom,
    CsvMixedLineEndings,
}

/// <summary>
/// One hostile value, placed as text (escaped properly wherever it goes), as a raw JSON token (<c>1e400</c>,
/// <c>"\ud800"</c>) or as raw bytes (invalid UTF-8 inside a JSON string, a CSV field or a percent-encoded URL).
/// </summary>
public sealed record Hostile(string Label, string? Text = null, string? RawJson = null, byte[]? Bytes = null)
{
    public byte[] ToJson() => RawJson is not null ? Encoding.UTF8.GetBytes(RawJson)
        : Bytes is not null ? [(byte)'"', .. Bytes, (byte)'"']
        : JsonText.Quote(Text ?? "");

    /// <summary>Percent-encoded for a path segment or a query value; <paramref name="keepSlashes"/> leaves <c>/</c> and <c>.</c> as they
    /// are.</summary>
    public string ToUrl(bool keepSlashes = false) => Url.Encode(Bytes ?? JsonText.Wtf8(Text ?? RawJson ?? ""), keepSlashes);

    public byte[] ToCsv() => Bytes ?? (RawJson is not null ? Encoding.UTF8.GetBytes(RawJson) : Csv.Field(Text ?? ""));

    /// <summary>The value as far as it is text (for the check that an error only repeats what the caller sent).</summary>
    public string AsText => Text ?? RawJson ?? Encoding.UTF8.GetString(Bytes ?? []);

    public int Length => (Text ?? RawJson)?.Length ?? Bytes?.Length ?? 0;
}

/// <summary>The catalogues of hostile values, as CsCheck generators.</summary>
public static class HostileValues
{
    static Hostile T(string text, string? label = null) => new(label ?? Show(text), Text: text);
    static Hostile J(string raw) => new("raw " + raw, RawJson: raw);
    static Hostile B(string label, params byte[] bytes) => new(label, Bytes: bytes);

    public static string Show(string text)
    {
        var shown = new StringBuilder();
        foreach (var c in text.Length > 60 ? text[..60] : text)
            shown.Append(c is < ' ' or '\u007f' or (>= '\ud800' and <= '\udfff') or '\u2028' or '\u2029' or '\ufeff' or '\u202e'
                ? $"\\u{(int)c:x4}" : c.ToString());
        return text.Length > 60 ? $"{shown}… ({text.Length} chars)" : shown.ToString();
    }

    public static readonly Gen<Hostile> HugeNumbers = Gen.OneOf(
        J("1e400"), J("-1e400"), J("1e-400"), J("-0"), J("-0.0"), J("0e0"), J("1E+308"), J("1.7976931348623157e309"),
        J("99999999999999999999999999999999999999"), J("9223372036854775808"), J("-9223372036854775809"), J("2147483648"),
        J("-2147483649"), J("79228162514264337593543950336"), J("-79228162514264337593543950336"), J("79228162514264337593543950335"),
        J("0.000000000000000000000000000000000000001"), J("123456789012345678901234567890.123456789"), J("1" + new string('0', 400)),
        J("\"NaN\""), J("\"Infinity\""), J("\"-Infinity\""), J("\"1e400\""), J("\"-0\""), J("\"12\""),
        J("NaN"), J("Infinity"), J("-Infinity"), J("0x10"), J("+1"), J(".5"), J("1."), J("01"), J("1e"), J("--1"),
        J("100.0000000000000000000000001"), J("-0.0000000000000000000000000001"), J("1e2"), J("1E2"), J("100.0"), J("101"), J("-1"));

    public static readonly Gen<Hostile> InvalidPeriods = Gen.OneOf(
        T("2025-13"), T("2025-00"), T("0000-01"), T("2025-Q5"), T("2025-Q0"), T("2025-Q"), T("2025-1"), T("25-01"), T("2025/01"),
        T("2025-01-01"), T("2025-M01"), T("2025-W01"), T("2025-H1"), T("-2025-01"), T("10000-01"), T("2025-٠١"), T("２０２５-０１"),
        T("2025-01 "), T(" 2025-01"), T("2025-01\n"), T(""), T("2025-q1"), T("2025Q1"), T("0000"), T("0000-Q1"), T("2025-Q1-01"),
        T("2025-13-01"), T("9999-12"), T("2025-Q4 "), T("2025-99"), T("2025-1a"), T("２０２５"), T("2025-Q١"), J("202513"), J("2025"));

    static readonly Gen<Hostile> OtherBadDates = Gen.OneOf(
        T("0001-01-01"), T("9999-12-31"), T("2025-02-30"), T("2025-02-29"), T("2024-02-30"), T("2025-04-31"), T("2025-13-01"),
        T("2025-00-01"), T("2025-01-00"), T("2025-01-32"), T("0000-01-01"), T("10000-01-01"), T("-0001-01-01"), T("+2025-01-01"),
        T("2025-1-1"), T("20250101"), T("2025-06-15T00:00:00Z"), T("2025-06-15T25:00:00Z"), T("9999-12-31T23:59:59.9999999Z"),
        T("0001-01-01T00:00:00Z"), T("0001-01-01T00:00:00+14:00"), T("9999-12-31T23:59:59-14:00"), T("1970-01-01"), T("1900-02-29"),
        T("2025-06-15 "), T("١٩٩٩-٠١-٠١"), T("2025-W24-1"), T("2025-166"), T("0001-01-01T00:00:00"), T("9999-12-31T23:59:59"),
        T("2025-06-15T12:00:00+99:00"), T("2025-06-15Z"), T("yesterday"), J("20250615"), J("0"));

    /// <summary>Out-of-range dates; the edges of DateOnly weigh more, since date arithmetic (due in 10 days, overdue) breaks there.</summary>
    public static readonly Gen<Hostile> BadDates = Gen.Frequency(
        (2, Gen.OneOf(T("0001-01-01"), T("9999-12-31"), T("0001-01-02"), T("9999-12-30"), T("9999-12-25"), T("0001-01-10"))),
        (5, OtherBadDates));

    public static readonly Gen<Hostile> ControlCharacters = Gen.OneOf(
        T("\u0000"), T("a\u0000b"), T("\u0001\u0002\u0003"), T("\t"), T("\n"), T("\r\n"), T("\u001b[31mred"), T("\u007f"), T("\u0085"),
        T("\u2028\u2029"), T("\ufeff"), T("\u200b"), T("\u202eevil"), T("\ud800"), T("\udfff"), T("a\ud800b"), T("\uffff"), T("\ufffe"),
        T("\b\f\v"), T("HNMZT\u0000"), T("2025-09\u0000"),
        J("\"\\ud800\""), J("\"\\udc00\\ud800\""), J("\"\\u0000\""), J("\"a\\u0000b\""),
        B("raw control char in string", 0x61, 0x01, 0x62), B("raw newline in string", 0x61, 0x0a, 0x62), B("raw NUL in string", 0x00),
        B("raw tab in string", 0x09));

    public static readonly Gen<Hostile> InvalidUtf8 = Gen.OneOf(
        B("0xFF", 0xFF), B("0xFE 0xFF", 0xFE, 0xFF), B("0xC3 0x28", 0xC3, 0x28), B("overlong /", 0xC0, 0xAF), B("overlong 3-byte", 0xE0, 0x80, 0xAF),
        B("UTF-8 encoded surrogate", 0xED, 0xA0, 0x80), B("above U+10FFFF", 0xF4, 0x90, 0x80, 0x80), B("5-byte form", 0xF8, 0x88, 0x80, 0x80, 0x80),
        B("lone continuation", 0x80), B("lone 0xBF", 0xBF), B("truncated €", 0xE2, 0x82), B("a FF b", 0x61, 0xFF, 0x62),
        B("truncated 中", 0xE4, 0xB8), B("Latin-1 é", 0xE9), B("GBK 中文", 0xD6, 0xD0, 0xCE, 0xC4));

    public static readonly Gen<Hostile> ChineseAndEmoji = Gen.OneOf(
        T("整改落实情况通报"), T("殡葬改革推行不力"), T("𠜎𠜱𠝹𠱓"), T("👨‍👩‍👧‍👦"), T("🇨🇳🇭🇰"), T("😀😃😄"), T("ｆｕｌｌｗｉｄｔｈ"), T("e\u0301\u0301\u0301"),
        T("١٢٣"), T("海南省🏝️"), T("指标-😀"), T("ﾊﾝｶｸ"), T("한국어"), T("Ελληνικά"), T("中"), T("　"), T("《》【】（）"), T("\u4e2d\u6587 混合 Mixed 123"),
        T("海南省民政厅", "海南省民政厅"), T("HNMZT.社会事务处"), T("460000中"), T("Ω≈ç√∫"), T("🏳️‍🌈"), T("ปีใหม่"));

    public static readonly Gen<Hostile> SqlAndPath = Gen.OneOf(
        T("' OR 1=1 --"), T("' OR '1'='1"), T("\"; DROP TABLE rounds; --"), T("1; SELECT pg_sleep(10)--"), T("1' UNION SELECT NULL,NULL--"),
        T("' AND pg_sleep(5) IS NULL --"), T("$1"), T("%"), T("_"), T("\\"), T("\\\\"), T("'"), T("''"), T("\""), T("../../etc/passwd"),
        T("..\\..\\windows\\win.ini"), T("%00"), T("/etc/passwd%00.json"), T("....//....//"), T("%2e%2e%2f"), T("file:///etc/passwd"),
        T("${jndi:ldap://x/a}"), T("{{7*7}}"), T("<script>alert(1)</script>"), T("%s%s%s%n"), T("a & | b"), T("!!!"), T("foo:*"), T("("),
        T("a <-> b"), T(":*"), T("*"), T("?"), T("#"), T("&"), T("="), T("+"), T("/"), T("."), T(".."), T("null"), T("undefined"), T("true"),
        T("COPY rounds TO '/tmp/x'"), T("\\x00"), T("E'\\x00'"), T("$$; SELECT 1; $$"), T("/*"), T("*/"), T("-- "));

    static readonly Gen<int> LongLength = Gen.Frequency(
        (8, Gen.Int[10_000, 20_000]), (2, Gen.Const(65_536)), (2, Gen.Int[100_000, 200_000]), (1, Gen.Const(1_000_000)));

    public static readonly Gen<Hostile> LongStrings =
        from length in LongLength
        from unit in Gen.OneOf("a", "中", "整改a1", "😀", "9", " ", "'")
        select new Hostile($"{length} chars of '{unit}'", Text: Repeat(unit, length));

    public static string Repeat(string unit, int length)
    {
        var text = new StringBuilder(length + unit.Length);
        while (text.Length < length) text.Append(unit);
        var repeated = text.ToString(0, length);
        return char.IsHighSurrogate(repeated[^1]) ? repeated[..^1] : repeated; // never cut a pair in two
    }

    /// <summary>Values of the wrong JSON type (the generator picks one whose type differs from the schema's).</summary>
    public static readonly string[] WrongTypeTokens =
        ["123", "-1", "1.5", "true", "false", "\"text\"", "\"123\"", "[]", "[1]", "[\"a\",\"b\"]", "{}", "{\"a\":1}", "null", "\"\"",
            "\"2025-01-01\"", "0"];
}

/// <summary>JSON strings written by hand, so that lone surrogates and raw bytes can be sent as they are.</summary>
public static class JsonText
{
    public static byte[] Quote(string text)
    {
        if (!NeedsEscaping(text)) return [(byte)'"', .. Encoding.UTF8.GetBytes(text), (byte)'"'];
        var escaped = new StringBuilder(text.Length + 2).Append('"');
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"' || c == '\\') escaped.Append('\\').Append(c);
            else if (c < 0x20) escaped.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) escaped.Append(c).Append(text[++i]);
            // a lone surrogate, as a JSON escape
            else if (char.IsSurrogate(c)) escaped.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else escaped.Append(c);
        }
        return Encoding.UTF8.GetBytes(escaped.Append('"').ToString());
    }

    /// <summary>UTF-8, except that a lone surrogate is written as the three bytes it would take (invalid UTF-8, as a sloppy client sends
    /// it).</summary>
    public static byte[] Wtf8(string text)
    {
        if (!HasLoneSurrogate(text)) return Encoding.UTF8.GetBytes(text);
        var bytes = new List<byte>(text.Length * 3);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text.Substring(i, 2)));
                i++;
            }
            else if (char.IsSurrogate(c)) bytes.AddRange([(byte)(0xE0 | (c >> 12)), (byte)(0x80 | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F))]);
            else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
        return [.. bytes];
    }

    static bool NeedsEscaping(string text)
        => text.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || text.AsSpan().IndexOfAny('"', '\\') >= 0
            || text.AsSpan().IndexOfAnyInRange('\ud800', '\udfff') >= 0;

    static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return true;
        }
        return false;
    }
}

public static class Url
{
    /// <summary>Percent-encodes everything but unreserved ASCII (and <c>/</c> when asked).</summary>
    public static string Encode(byte[] bytes, bool keepSlashes = false)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlashes && c == '/'))) text.Append(c);
            else text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    public static string Encode(string text) => Encode(JsonText.Wtf8(text));
}

public static class Csv
{
    /// <summary>A CSV field: quoted (with doubled quotes) when it holds a separator, a quote or a line break.</summary>
    public static byte[] Field(string text)
    {
        var bytes = JsonText.Wtf8(text);
        return text.IndexOfAny([',', '"', '\r', '\n']) < 0
            ? bytes : [(byte)'"', .. JsonText.Wtf8(text.Replace("\"", "\"\"", StringComparison.Ordinal)), (byte)'"'];
    }
}
