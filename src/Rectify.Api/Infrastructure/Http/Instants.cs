using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// Instants are taken only with their offset (<c>2030-01-01T00:00:00Z</c>, <c>2030-01-01T08:00:00+08:00</c>). Without
/// one (<c>2030-01-01</c>, <c>2030-01-01T00:00:00</c>) the moment meant is a guess — the caller's zone, the server's,
/// UTC — so it is refused rather than read one way and answered another. Bodies (<see cref="InstantConverterFactory"/>)
/// and query strings (<see cref="Instant"/>) read them by the same rule, into UTC.
/// </summary>
public static partial class Instants
{
    public const string Example = "2030-01-01T00:00:00Z";

    /// <summary>The refusal, naming the field as the caller wrote it.</summary>
    public static Text Message(string field) => $"{field} must be an ISO 8601 instant with an offset, e.g. {Example}.";

    /// <summary>The refusal of a value that is not a named field (the body itself).</summary>
    public static Text ValueMessage() => $"The value must be an ISO 8601 instant with an offset, e.g. {Example}.";

    // Date, 'T', hours and minutes, optional seconds and fraction, then Z or ±hh:mm: the offset is not optional.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex WithOffset();

    /// <summary>The instant <paramref name="text"/> names, in UTC, when it carries an offset and is a real moment.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out DateTimeOffset utc)
    {
        utc = default;
        if (text is null || text.Length > 40 || !WithOffset().IsMatch(text)) return false;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return false;
        utc = parsed.ToUniversalTime();
        return true;
    }
}

/// <summary>An instant in a query string (<c>?from=2025-10-01T00:00:00%2B08:00</c>); binds only with an offset.</summary>
public readonly record struct Instant(DateTimeOffset Utc)
{
    public static bool TryParse(string? text, IFormatProvider? provider, out Instant instant)
    {
        var ok = Instants.TryParse(text, out var utc);
        instant = new Instant(utc);
        return ok;
    }

    public DateTime UtcDateTime => Utc.UtcDateTime;

    public override string ToString() => Utc.ToString("O", CultureInfo.InvariantCulture);
}

/// <summary>An instant without an offset (or not an instant at all); the problem names the field.</summary>
public sealed class InstantWithoutOffsetException() : JsonException(Instants.ValueMessage().ToString());

/// <summary>Reads <see cref="DateTime"/> and <see cref="DateTimeOffset"/> by <see cref="Instants"/>; writes them as before.</summary>
public sealed class InstantConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(DateTime) || typeToConvert == typeof(DateTimeOffset);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        => typeToConvert == typeof(DateTime) ? new DateTimeConverter() : new DateTimeOffsetConverter();

    static DateTimeOffset Read(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String
            && Instants.TryParse(reader.GetString(), out var utc) ? utc : throw new InstantWithoutOffsetException();

    sealed class DateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => InstantConverterFactory.Read(ref reader).UtcDateTime;

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    sealed class DateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => InstantConverterFactory.Read(ref reader);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
